/*
 * duecourse notice banner: shows a client's pending-payment notice in any page.
 *
 *   <script src="https://duecourse.example.com/static/notice.js" defer
 *           data-client="CLIENT_EXTERNAL_ID" data-key="PUBLISHABLE_KEY"
 *           data-signature="SIGNATURE"></script>
 *
 * SIGNATURE is hex HMAC-SHA256 of the client's external id under the notice
 * secret, computed by the host product's server (`duecourse notice-keys`).
 * The page's origin must be listed in DUECOURSE_NOTICE_ORIGINS.
 * Optional: data-target="CSS selector" to place the banner inside an element
 * instead of at the top of the page.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var client = script.getAttribute("data-client");
  var key = script.getAttribute("data-key");
  var signature = script.getAttribute("data-signature");
  if (!client || !key || !signature) { return; }

  var base = script.src.replace(/\/static\/notice\.js(\?.*)?$/, "");
  var url = base + "/notices/" + encodeURIComponent(client) +
    "?key=" + encodeURIComponent(key) + "&sig=" + encodeURIComponent(signature);
  var dismissed = "duecourse-notice-dismissed:" + client;

  var colours = {
    info: ["#e8f0fc", "#1f4f99", "#b9cdef"],
    warning: ["#fdf0e6", "#8a3a0c", "#f1c7a8"]
  };

  function link(label, href) {
    var a = document.createElement("a");
    a.textContent = label;
    a.href = href;
    a.rel = "noopener";
    a.style.cssText = "margin-left:1em;color:inherit;font-weight:600;";
    return a;
  }

  function show(notice) {
    try {
      if (window.sessionStorage.getItem(dismissed) === notice.text) { return; }
    } catch (e) { /* storage blocked: always show */ }
    var c = colours[notice.severity] || colours.info;
    var box = document.createElement("div");
    box.className = "duecourse-notice duecourse-notice-" + notice.severity;
    box.setAttribute("role", notice.severity === "warning" ? "alert" : "status");
    box.setAttribute("lang", notice.language);
    box.style.cssText = "box-sizing:border-box;width:100%;padding:10px 40px 10px 14px;" +
      "font:15px/1.4 system-ui,sans-serif;position:relative;background:" + c[0] +
      ";color:" + c[1] + ";border-bottom:1px solid " + c[2] + ";";
    var text = document.createElement("span");
    var url = (notice.how_to_pay && notice.how_to_pay.payment_url) || notice.portal_url;
    var at = notice.text.indexOf(url);
    if (at >= 0) {
      // The template names the link in its sentence: make that part clickable.
      text.appendChild(document.createTextNode(notice.text.slice(0, at)));
      var inline = link(url, url);
      inline.style.marginLeft = "0";
      inline.style.wordBreak = "break-all";
      text.appendChild(inline);
      text.appendChild(document.createTextNode(notice.text.slice(at + url.length)));
    } else {
      text.textContent = notice.text;
    }
    box.appendChild(text);
    if (notice.how_to_pay && notice.how_to_pay.payment_url) {
      box.appendChild(link(notice.labels.pay, notice.how_to_pay.payment_url));
    }
    box.appendChild(link(notice.labels.account, notice.portal_url));
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", notice.labels.dismiss);
    close.style.cssText = "position:absolute;right:8px;top:6px;border:0;background:none;" +
      "font-size:20px;line-height:1;cursor:pointer;color:inherit;";
    close.addEventListener("click", function () {
      box.remove();
      try { window.sessionStorage.setItem(dismissed, notice.text); } catch (e) { }
    });
    box.appendChild(close);

    var target = script.getAttribute("data-target");
    var parent = (target && document.querySelector(target)) || document.body;
    parent.insertBefore(box, parent.firstChild);
  }

  function load() {
    fetch(url, { mode: "cors", credentials: "omit", cache: "no-cache" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && data.notice) { show(data.notice); } })
      .catch(function () { /* the host page must never break over a banner */ });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", load);
  } else {
    load();
  }
})();
