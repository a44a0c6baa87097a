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

  // 附件批量导入: drop an image onto a row's form to upload it (the row's file input works without this).
  document.querySelectorAll("form[data-drop-upload]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      input.files = event.dataTransfer.files;
      zone.submit();
    });
  });
});

// Pages showing work still in progress (background imports) reload themselves: data-refresh-seconds="5".
document.addEventListener("DOMContentLoaded", function () {
  var holder = document.querySelector("[data-refresh-seconds]");
  if (holder) {
    window.setTimeout(function () { window.location.reload(); }, 1000 * Number(holder.dataset.refreshSeconds));
  }
});
