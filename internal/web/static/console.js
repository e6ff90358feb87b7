// cxloop console: a form that says data-confirm asks before it acts
// (revoking a token, removing a team...). Without JavaScript the form
// acts at once, as it always did.
document.addEventListener("submit", (e) => {
  const form = e.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : "";
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
});
