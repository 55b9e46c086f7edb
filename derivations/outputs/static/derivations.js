/* Wide display math fits its column, on the course site and on the self-check page (which carries this file
   inline). After MathJax has typeset the page (and again when the window is resized), a display wider than its
   box is scaled down until it fits, to 55% of its size at the least; one still wider (a phone's screen)
   scrolls inside its own box, never past the column. A page without MathJax is left as it is. */
(function () {
  "use strict";
  var SMALLEST = 0.55;

  function fit() {
    var displays = document.querySelectorAll('mjx-container[display="true"]');
    for (var i = 0; i < displays.length; i++) {
      var m = displays[i];
      if (m.dataset.fitBase === undefined) m.dataset.fitBase = m.style.fontSize || "";
      var base = parseFloat(m.dataset.fitBase) || 100;  // MathJax's own size (it matches the text's x-height)
      m.style.fontSize = m.dataset.fitBase;
      var scale = 1;
      for (var k = 0; k < 3 && m.scrollWidth > m.clientWidth + 1 && m.clientWidth > 0 && scale > SMALLEST; k++) {
        scale = Math.max(SMALLEST, scale * (m.clientWidth - 2) / m.scrollWidth);
        m.style.fontSize = (base * scale).toFixed(2) + "%";
      }
      m.classList.toggle("derivations-scaled", scale < 1);
    }
    document.documentElement.dataset.derivationsFitted = "1";
  }

  var waited = 0;
  function start() {
    if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
      if (++waited < 400) setTimeout(start, 50);  // MathJax loads deferred; 20 s, then no MathJax is coming
      return;
    }
    MathJax.startup.promise.then(fit);
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(fit, 100);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
