// Optional help in the decision form: picking a standard justification fills an empty justification.
// Without JavaScript the server uses the standard text when the justification is left empty.
(function () {
  "use strict";
  document.querySelectorAll("select[data-standard-justifications]").forEach(function (select) {
    var form = select.form;
    var textarea = form && form.querySelector("textarea[name=justification]");
    if (!textarea) { return; }
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var text = option && option.getAttribute("data-text");
      if (text && !textarea.value.trim()) { textarea.value = text; }
    });
  });
})();
