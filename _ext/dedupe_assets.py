"""Drop scripts that are added to a page twice.

sphinx-thebe registers its inline configuration (``const THEBE_JS_URL = ...``)
once per read phase, and sphinx-togglebutton likewise, so every page carried the
same inline scripts twice and the browser logged "Identifier 'THEBE_JS_URL' has
already been declared". This extension keeps the first copy of each script.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # the same inline script is registered once with filename None, once with ""
        key = (getattr(js, "filename", js) or "",
               tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    # run after the other extensions have filled the page context
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
