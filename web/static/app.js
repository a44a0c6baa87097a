// Behaviour without inline scripts (the Content-Security-Policy forbids them).
document.addEventListener("DOMContentLoaded", function () {
  // Confirm before destructive POSTs: <form data-confirm="...">.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  // Permission tree, parent-child linkage (父子联动): checking a node checks its whole subtree,
  // checking a child checks its ancestors; unchecking a node unchecks its subtree.
  document.querySelectorAll("[data-linkage=parent-child]").forEach(function (tree) {
    tree.addEventListener("change", function (event) {
      var box = event.target;
      if (box.type !== "checkbox") { return; }
      var item = box.closest("li");
      item.querySelectorAll("input[type=checkbox]").forEach(function (child) {
        if (!child.disabled) { child.checked = box.checked; }
      });
      if (box.checked) {
        var parent = item.parentElement.closest("li");
        while (parent) {
          var own = parent.querySelector(":scope > label > input[type=checkbox]");
          if (own && !own.disabled) { own.checked = true; }
          parent = parent.parentElement.closest("li");
        }
      }
    });
  });

  // Account creation: offer only the organizations where the chosen user type may be created.
  var form = document.querySelector("form[data-orgs-by-type]");
  if (form) {
    var allowed = JSON.parse(form.dataset.orgsByType);
    var typeSelect = form.querySelector("select[name=user_type]");
    var orgSelect = form.querySelector("select[name=org_id]");
    var sync = function () {
      var ids = (allowed[typeSelect.value] || []).map(String);
      Array.prototype.forEach.call(orgSelect.options, function (opt) {
        opt.hidden = ids.indexOf(opt.value) < 0;
      });
      if (orgSelect.selectedOptions.length && orgSelect.selectedOptions[0].hidden) {
        var first = Array.prototype.find.call(orgSelect.options, function (o) { return !o.hidden; });
        if (first) { orgSelect.value = first.value; }
      }
    };
    typeSelect.addEventListener("change", sync);
    sync();
  }
});
