// Keyboard shortcuts for the review desk. No framework; forms still work without it.
(function () {
  "use strict";
  function cards() { return Array.prototype.slice.call(document.querySelectorAll(".cand")); }
  var idx = -1;
  function select(i) {
    var cs = cards();
    if (!cs.length) return;
    idx = Math.max(0, Math.min(cs.length - 1, i));
    cs.forEach(function (c) { c.classList.remove("sel"); });
    cs[idx].classList.add("sel");
    cs[idx].focus({ preventScroll: true });
    cs[idx].scrollIntoView({ block: "nearest" });
  }
  function current() {
    var cs = cards();
    if (cs.length === 1) return cs[0];
    return idx >= 0 ? cs[idx] : null;
  }
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var hash = window.location.hash;
    if (hash && /^#c\d+$/.test(hash)) {
      var cs = cards();
      for (var i = 0; i < cs.length; i++) { if ("#" + cs[i].id === hash) { select(i + 1 < cs.length ? i + 1 : i); break; } }
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    var c;
    switch (e.key) {
      case "j": select(idx + 1); break;
      case "k": select(idx - 1); break;
      case "/": var q = document.getElementById("q"); if (q) { q.focus(); q.select(); } break;
      case "o": case "Enter":
        c = current(); if (c && c.dataset.href) { window.location.href = c.dataset.href; } else return; break;
      case "a": case "u": case "r":
        c = current(); if (!c) return;
        var el = c.querySelector('[data-key="' + e.key + '"]');
        if (!el) return;
        if (el.tagName === "SELECT") { el.focus(); } else { el.click(); }
        break;
      default: return;
    }
    e.preventDefault();
  });
})();
