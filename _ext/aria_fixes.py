"""Small accessibility fixes to the HTML that docutils writes (found by axe-core).

docutils writes a citation list as ``<div role="list" class="citation-list">`` whose
children carry ``role="doc-biblioentry"`` and back-links; a list may only contain
list items, so axe-core reports "aria-required-children" (critical). Without the
role, the citations are plain labelled blocks, which screen readers read in order.
"""


def _fix_body(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and 'role="list" class="citation-list"' in body:
        context["body"] = body.replace('<div role="list" class="citation-list">',
                                       '<div class="citation-list">')


def setup(app):
    app.connect("html-page-context", _fix_body)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
