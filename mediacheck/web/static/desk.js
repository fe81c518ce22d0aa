// Upload progress for the intake and match forms: htmx sends them as XMLHttpRequests
// and reports the bytes sent; this shows them. No inline script anywhere (CSP).
"use strict";
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest("form");
  const bar = form && form.querySelector("#upload-progress");
  const status = form && form.querySelector("#upload-status");
  if (!bar || !event.detail.lengthComputable) {
    return;
  }
  const percent = Math.round((event.detail.loaded / event.detail.total) * 100);
  bar.hidden = false;
  bar.value = percent;
  status.textContent = percent < 100 ? `uploading ${percent}%` : "analysing…";
});
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.target.closest("form");
  const bar = form && form.querySelector("#upload-progress");
  const status = form && form.querySelector("#upload-status");
  if (!bar) {
    return;
  }
  bar.hidden = true;
  status.textContent = event.detail.successful ? "done" : "failed: see the message below";
});
document.addEventListener("htmx:beforeSwap", (event) => {
  // An error page (400, 403, 409) is shown in the results rather than dropped.
  if (event.detail.xhr.status >= 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
    event.detail.target = document.querySelector("#results") || event.detail.target;
    event.detail.selectOverride = "main";
    event.detail.swapOverride = "innerHTML";
  }
});
