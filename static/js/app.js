// coop_app: small behaviours; no inline scripts anywhere (the CSP forbids them).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
