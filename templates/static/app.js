// Progressive enhancement only: every page works without this file.
// Buttons with data-confirm ask before submitting their form.
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  if (b && b.dataset.confirm && !window.confirm(b.dataset.confirm)) {
    e.preventDefault();
  }
});

// Quick exit: leave Mend for a neutral page at once. location.replace
// swaps the current page out of the history, so Back does not return to
// it. Without this script the link still leads to the neutral page.
document.addEventListener("click", function (e) {
  var a = e.target.closest && e.target.closest("a[data-quick-exit]");
  if (a) {
    e.preventDefault();
    document.body.hidden = true;
    window.location.replace(a.href);
  }
});

// "Show password" buttons (hidden until this script runs) switch their
// field between hidden and readable text.
document.querySelectorAll("button[data-show-password]").forEach(function (b) {
  var input = document.getElementById(b.dataset.showPassword);
  if (!input) {
    return;
  }
  b.hidden = false;
  b.addEventListener("click", function () {
    var show = input.type === "password";
    input.type = show ? "text" : "password";
    b.setAttribute("aria-pressed", show ? "true" : "false");
    b.textContent = show ? "Hide password" : "Show password";
  });
});

// "Copy link" buttons (hidden until this script runs, and where the
// browser has no clipboard) copy the text of the element they name, and
// say so.
document.querySelectorAll("button[data-copy]").forEach(function (b) {
  var source = document.getElementById(b.dataset.copy);
  if (!source || !navigator.clipboard) {
    return;
  }
  b.hidden = false;
  b.addEventListener("click", function () {
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      b.textContent = "Copied";
    }, function () {
      b.textContent = "Select the link and copy it";
    });
  });
});
