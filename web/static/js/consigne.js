// Consigne: the one script of the pages. It only adds comfort; every journey works without it.
//  - the error summary and the confirmation take the focus when a page opens;
//  - a password can be shown and hidden;
//  - chosen photos are previewed before sending, and an upload shows its progress;
//  - a warning before the idle time-out, with « Stay signed in », then the automatic sign-out.
// No inline script anywhere (the Content-Security-Policy forbids it): behaviour hangs on data-module.
(function () {
  "use strict";

  function each(selector, root, action) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), action);
  }

  // --- focus on what the page has to say --------------------------------------------------------------
  function focusMessages(root) {
    var target = (root || document).querySelector('[data-module="error-summary"]') ||
      (root || document).querySelector('[data-module="confirmation"]');
    if (target) { target.focus(); }
    each('[data-module="error-summary"] a[href^="#"]', root, function (link) {
      link.addEventListener("click", function (event) {
        var field = document.getElementById(link.getAttribute("href").slice(1));
        if (!field) { return; }
        event.preventDefault();
        // Bring the field's label or legend into view with the field, as the summary promised.
        var around = field.closest("fieldset") || field.closest(".field") || field;
        around.scrollIntoView();
        field.focus({ preventScroll: true });
      });
    });
  }

  // --- show or hide a password --------------------------------------------------------------------------
  function passwords(root) {
    each('[data-module="password"]', root, function (field) {
      var input = field.querySelector("input");
      var toggle = field.querySelector(".password__toggle");
      var status = field.querySelector("[data-password-status]");
      if (!input || !toggle) { return; }
      function set(shown) {
        input.type = shown ? "text" : "password";
        toggle.textContent = shown ? toggle.dataset.hide : toggle.dataset.show;
        toggle.setAttribute("aria-pressed", shown ? "true" : "false");
        if (status) { status.textContent = shown ? toggle.dataset.shown : toggle.dataset.hidden; }
      }
      toggle.hidden = false;
      toggle.addEventListener("click", function () { set(input.type === "password"); });
      // Never send, or leave in the back-forward cache, a password in clear on screen.
      if (input.form) { input.form.addEventListener("submit", function () { set(false); }); }
      window.addEventListener("pageshow", function () { set(false); });
    });
  }

  // --- preview the chosen photos ------------------------------------------------------------------------
  function previews(root) {
    each('input[type="file"][data-module="file-preview"]', root, function (input) {
      var list = document.querySelector('[data-previews-for="' + input.id + '"]');
      if (!list) { return; }
      input.addEventListener("change", function () {
        list.textContent = "";
        Array.prototype.forEach.call(input.files, function (file) {
          var item = document.createElement("li");
          var name = document.createElement("span");
          name.textContent = file.name;
          // Read in memory as a data: URL (the policy allows no blob: URLs); HEIC and PDF get their name only.
          if (/^image\/(jpeg|png|webp)$/.test(file.type) && file.size < 25 * 1024 * 1024) {
            var image = document.createElement("img");
            image.alt = "";
            var reader = new FileReader();
            reader.onload = function () { image.src = reader.result; };
            reader.readAsDataURL(file);
            item.appendChild(image);
          }
          item.appendChild(name);
          list.appendChild(item);
        });
        list.hidden = input.files.length === 0;
      });
    });
  }

  // --- upload progress ----------------------------------------------------------------------------------
  var SCRIPT_HEADER = "X-Consigne-Script";

  function uploads(root) {
    each('form[data-module="upload"]', root, function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.FormData || !window.XMLHttpRequest) { return; }
        event.preventDefault();
        var box = form.querySelector("[data-upload-progress]");
        var bar = form.querySelector("progress");
        var button = form.querySelector('button[type="submit"]');
        if (box) { box.hidden = false; }
        if (button) { button.disabled = true; }
        var request = new XMLHttpRequest();
        request.open("POST", form.action);
        // Tells the server that the page it redirects to is fetched by this script, not shown: the
        // confirmation « saved » then waits for the real visit to that page.
        request.setRequestHeader(SCRIPT_HEADER, "upload");
        request.upload.addEventListener("progress", function (progress) {
          if (bar && progress.lengthComputable) { bar.value = Math.round(100 * progress.loaded / progress.total); }
        });
        request.addEventListener("load", function () {
          // Saved: the server redirected to my papers, which the request followed.
          if (request.status === 200 && request.responseURL && request.responseURL.indexOf(form.action) === -1) {
            window.location.assign(request.responseURL);
            return;
          }
          // Not saved: show the page the server answered (the form with the problem in words).
          var page = new DOMParser().parseFromString(request.responseText, "text/html");
          var main = page.querySelector("main");
          if (!main) { form.submit(); return; }
          document.title = page.title;
          document.querySelector("main").replaceWith(main);
          enhance(main);
        });
        request.addEventListener("error", function () {
          // The network failed: send the form the ordinary way, which shows the browser's own error.
          if (button) { button.disabled = false; }
          form.submit();
        });
        request.send(new FormData(form));
      });
    });
  }

  // --- time-out warning ---------------------------------------------------------------------------------
  var WARNING_SECONDS = 120;
  // The sign-out page is asked for a little after the deadline, when the server's clock has passed it too.
  var GRACE_SECONDS = 5;

  function timeout() {
    var body = document.body;
    var idle = parseInt(body.dataset.idleSeconds || "0", 10);
    var banner = document.querySelector('[data-module="timeout-warning"]');
    if (!idle || !banner) { return; }
    var message = banner.querySelector("[data-timeout-message]");
    var stay = banner.querySelector("[data-keep-alive]");
    var deadline, ticker;

    function start() {
      deadline = Date.now() + idle * 1000;
      banner.hidden = true;
      clearInterval(ticker);
      ticker = setInterval(tick, 1000);
    }
    function tick() {
      var left = Math.round((deadline - Date.now()) / 1000);
      if (left <= -GRACE_SECONDS) {
        clearInterval(ticker);
        // The server checks: signed out if nothing happened, back here if another tab was in use.
        window.location.assign(body.dataset.timedOutUrl);
        return;
      }
      if (left <= WARNING_SECONDS) {
        var minutes = Math.max(1, Math.ceil(Math.max(left, 0) / 60));
        var text = minutes === 1 ? message.dataset.templateOne : message.dataset.template.replace("{minutes}", minutes);
        if (banner.hidden || message.textContent !== text) { message.textContent = text; }
        banner.hidden = false;
      }
    }
    stay.addEventListener("click", function () {
      var form = document.querySelector(".sign-out-form");
      var token = form ? form.querySelector('input[name="csrf_token"]').value : "";
      var request = new XMLHttpRequest();
      request.open("POST", body.dataset.keepAliveUrl);
      request.setRequestHeader("X-CSRFToken", token);
      request.addEventListener("load", function () {
        if (request.status === 204) { start(); } else { window.location.assign(body.dataset.timedOutUrl); }
      });
      request.send();
    });
    start();
  }

  function enhance(root) {
    focusMessages(root);
    passwords(root);
    previews(root);
    uploads(root);
  }

  document.documentElement.classList.add("js");
  enhance(document);
  timeout();
})();
