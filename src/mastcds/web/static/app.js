// mastcds: the only script. Pages work without it; it adds confirmations
// before irreversible account actions (forms marked data-confirm).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
