/* The venue page: fetch the current place code every few seconds and swap it in.
   Without JavaScript the page reloads itself (<noscript> meta refresh) instead. */
(function () {
  "use strict";
  var box = document.getElementById("place-code");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-url");
  var seconds = parseFloat(box.getAttribute("data-refresh")) || 5;
  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (!answer.ok) { throw new Error(String(answer.status)); }
        return answer.json();
      })
      .then(function (code) {
        document.getElementById("qr").innerHTML = code.svg; // the server's own segno SVG
        document.getElementById("code-text").textContent = code.text;
        var until = document.getElementById("until");
        until.setAttribute("datetime", code.valid_until);
        until.textContent = new Date(code.valid_until).toLocaleTimeString();
        box.classList.remove("stale");
      })
      .catch(function () { box.classList.add("stale"); });
  }
  window.setInterval(refresh, seconds * 1000);
}());
