// coop_app: small behaviours; no inline scripts anywhere (the CSP forbids them).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// A form marked data-once is sent once: a second click while the first is on its way does
// nothing (the server also ignores a repeated one-time key; this only spares the request).
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-once]");
  if (!form) {
    return;
  }
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
});

// Coming back to a page from the browser's cache lets its forms be sent again.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-sending]").forEach((form) => {
    delete form.dataset.sending;
  });
});
