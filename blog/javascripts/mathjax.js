// MathJax 3 for pymdownx.arithmatex (generic mode): the extension wraps formulas in
// \( \) and \[ \] inside elements of class "arithmatex"; typeset only those.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};

// Material swaps pages without a full reload (instant navigation): typeset each new page.
document$.subscribe(() => {
  if (!window.MathJax.startup) {
    return; // MathJax itself has not finished loading; it typesets the first page on its own.
  }
  MathJax.startup.output.clearCache();
  MathJax.typesetClear();
  MathJax.texReset();
  MathJax.typesetPromise();
});
