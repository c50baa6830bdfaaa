/* lstm-course: the book's search ranking and snippets (html_search_scorer in _config.yml).
 *
 * Sphinx puts this file into language_data.js, before searchtools.js, so it defines the
 * Scorer (Sphinx's defaults plus `score`) and, once the page has loaded, replaces
 * Search.htmlToText, which makes the snippets under each result.
 *
 * 1. Ranking: a page whose title holds the words of the query comes first. Sphinx scores a
 *    word in any section heading like a word in the page title, so "forget gate" ranked
 *    chapter 3 (headings "... the gates that fix them", "... forget ...") level with
 *    chapter 4 ("Gates: input, output and forget") and sorted it first by name.
 * 2. Snippets: no raw LaTeX (MathJax has not typeset a page fetched for its text): inline
 *    maths becomes plain text (\partial -> ∂, braces dropped), display maths is left out,
 *    and so are the page's buttons, its table of contents and cell outputs.
 */
var Scorer = {
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,

  // 20 points for every query word (compared by its first letters, so that "gate" finds
  // "Gates") that the page's own title contains
  score: (result) => {
    const [docname, title, anchor, descr, score] = result;
    const query = new URLSearchParams(window.location.search).get("q") || "";
    const pageTitle = (title || "").split(" > ")[0].toLowerCase();
    let bonus = 0;
    for (const word of query.toLowerCase().split(/\s+/)) {
      if (word.length < 3) continue;
      const stem = word.slice(0, Math.max(4, word.length - 2));
      if (pageTitle.includes(stem)) bonus += 20;
    }
    return score + bonus;
  },
};

var LSTM_COURSE_TEX = {
  partial: "∂", sigma: "σ", delta: "δ", gamma: "γ", lambda: "λ", eta: "η", tau: "τ",
  odot: "⊙", cdot: "·", times: "×", le: "≤", leq: "≤", ge: "≥", geq: "≥", approx: "≈",
  infty: "∞", to: "→", sum: "Σ", prod: "Π", top: "ᵀ", prime: "′",
  mathrm: "", text: "", operatorname: "", mathbf: "", boldsymbol: "", left: "", right: "",
};

function lstmCoursePlainTeX(tex) {
  return tex
    .replace(/^\\\(|\\\)$/g, "")
    .replace(/\\[|]/g, "‖")
    .replace(/\\[,;!]/g, " ")
    .replace(/\\([A-Za-z]+)/g, (m, name) => LSTM_COURSE_TEX[name] ?? name)
    .replace(/[{}\\]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

window.addEventListener("DOMContentLoaded", () => {
  if (typeof Search === "undefined") return;
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    const drop = [".headerlink", "script", "style", ".bd-header-article", ".bd-sidebar-secondary", ".onlyprint",
                  ".bd-toc", ".prev-next-area", "footer", "div.math", "div.cell_output"];
    for (const query of drop) doc.querySelectorAll(query).forEach((el) => el.remove());
    doc.querySelectorAll("span.math").forEach((el) => {
      el.replaceWith(doc.createTextNode(lstmCoursePlainTeX(el.textContent)));
    });
    const block = (anchor && doc.querySelector(`[role="main"] ${anchor}`)) || doc.querySelector('[role="main"]');
    return block ? block.textContent.replace(/\s+/g, " ") : "";
  };
});
