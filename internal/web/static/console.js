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

// The survey preview is as tall as the survey page it shows (same origin),
// so its last question and its button are never cut off; without
// JavaScript it keeps its fixed height and scrolls.
for (const frame of document.querySelectorAll("iframe#survey-preview")) {
  const fit = () => {
    try {
      const doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        frame.style.height = (doc.documentElement.scrollHeight + 4) + "px";
      }
    } catch (err) { /* another origin: keep the fixed height */ }
  };
  frame.addEventListener("load", fit);
  window.addEventListener("resize", fit);
  fit();
}
