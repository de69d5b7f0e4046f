/* daodian "services near you": an embeddable component for a merchant's own shop page.
 *
 *   <script src="https://<daodian>/embed/nearby.js" data-app="<client_id>" data-product="<product id>"
 *           [data-lat="31.23" data-lng="121.47"] [data-lang="en"] async></script>
 *
 * It reads the public API of the daodian it was loaded from (the product's linked services with their nearest
 * stores, the merchant's coupons), naming the app in every request: daodian answers only pages on the app's
 * registered web origins (docs/open-platform.md). It draws into a shadow root placed right after the script,
 * so the shop's styles and ours do not mix. Without data-lat/data-lng it asks the browser for the position.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var base = new URL(script.src).origin;
  var clientId = script.getAttribute("data-app") || "";
  var productId = script.getAttribute("data-product") || "";
  var lang = (script.getAttribute("data-lang") || navigator.language || "zh-CN").toLowerCase().indexOf("zh") === 0
    ? "zh" : "en";
  var TEXT = {
    zh: {title: "附近的服务", loading: "正在查找附近的门店…", none: "附近暂时没有提供这些服务的门店。",
         refused: "此页面未获准显示该组件。", failed: "暂时无法加载附近的服务。", km: "公里", m: "米",
         open: "营业中", closed: "休息中", coupons: "优惠券", claim: "领取", where: "允许定位以查看附近的门店。"},
    en: {title: "Services near you", loading: "Finding stores near you…", none: "No store nearby offers these services yet.",
         refused: "This page may not show this component.", failed: "Nearby services could not be loaded.", km: "km",
         m: "m", open: "Open", closed: "Closed", coupons: "Coupons", claim: "Claim", where: "Allow location to see stores near you."}
  }[lang];

  var host = document.createElement("div");
  host.setAttribute("data-daodian-embed", "nearby");
  script.parentNode.insertBefore(host, script.nextSibling);
  var root = host.attachShadow ? host.attachShadow({mode: "open"}) : host;
  var style = document.createElement("style");
  style.textContent = ":host{display:block;font:14px/1.5 system-ui,sans-serif;color:#222}" +
    ".box{border:1px solid #ddd;border-radius:8px;padding:12px;max-width:480px}h2{font-size:16px;margin:0 0 8px}" +
    "ul{list-style:none;margin:0;padding:0}li{padding:6px 0;border-top:1px solid #eee}" +
    ".svc{font-weight:600;margin-top:8px}.meta{color:#666;font-size:12px}" +
    "button{margin-left:8px;padding:2px 10px;border-radius:4px;border:1px solid #c33;background:#fff;color:#c33;cursor:pointer}" +
    ".note{color:#666}";
  root.appendChild(style);
  var box = el("div", {"class": "box", "data-testid": "daodian-nearby"});
  box.appendChild(el("h2", {}, TEXT.title));
  var status = el("p", {"class": "note", "data-testid": "daodian-status"}, TEXT.loading);
  box.appendChild(status);
  root.appendChild(box);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }  // text only: nothing from the API becomes markup
    return node;
  }

  function api(path, params) {
    var url = new URL(base + "/api/v1" + path);
    Object.keys(params || {}).forEach(function (k) { url.searchParams.set(k, params[k]); });
    url.searchParams.set("client_id", clientId);
    return fetch(url.toString(), {credentials: "omit"}).then(function (response) {
      if (response.status === 403) { throw new Error("refused"); }
      if (!response.ok) { throw new Error("failed"); }
      return response.json();
    });
  }

  function name(obj) { return lang === "zh" ? (obj.name_zh || obj.name) : (obj.name_en || obj.name_zh || obj.name); }

  function distance(metres) {
    return metres >= 1000 ? (metres / 1000).toFixed(1) + " " + TEXT.km : metres + " " + TEXT.m;
  }

  function showServices(data) {
    var any = false;
    var list = el("ul", {"data-testid": "daodian-services"});
    data.services.forEach(function (service) {
      var stores = service.stores || [];
      if (!stores.length) { return; }
      any = true;
      list.appendChild(el("li", {"class": "svc"}, name(service.service_category)));
      stores.forEach(function (hit) {
        var item = el("li", {"data-testid": "daodian-store"});
        var link = el("a", {href: base + "/s/" + hit.store.id, target: "_blank", rel: "noopener"},
                      lang === "zh" ? hit.store.name : (hit.store.name_en || hit.store.name));
        item.appendChild(link);
        item.appendChild(el("div", {"class": "meta"},
          distance(hit.distance_m) + " · " + (hit.open_now ? TEXT.open : TEXT.closed) + " · " + hit.store.address));
        list.appendChild(item);
      });
    });
    status.textContent = any ? "" : TEXT.none;
    box.appendChild(list);
  }

  function showCoupons(merchantId) {
    return api("/coupon-templates", {merchant_id: merchantId, limit: 5}).then(function (page) {
      if (!page.items || !page.items.length) { return; }
      box.appendChild(el("h2", {}, TEXT.coupons));
      var list = el("ul", {"data-testid": "daodian-coupons"});
      page.items.forEach(function (template) {
        var item = el("li", {}, template.name);
        var claim = el("button", {type: "button", "data-testid": "daodian-claim"}, TEXT.claim);
        // Claimed on daodian's own page, where the consumer is logged in: no cookie crosses to the shop's page.
        claim.addEventListener("click", function () {
          window.open(base + "/coupons#coupon-" + template.id, "_blank", "noopener");
        });
        item.appendChild(claim);
        list.appendChild(item);
      });
      box.appendChild(list);
    });
  }

  function load(lat, lng) {
    var params = lat === null ? {} : {lat: lat, lng: lng, datum: "wgs84"};
    api("/products/" + encodeURIComponent(productId), {}).then(function (product) {
      return Promise.all([api("/products/" + encodeURIComponent(productId) + "/services", params)
        .then(showServices), showCoupons(product.merchant_id)]);
    }).catch(function (error) {
      status.textContent = error.message === "refused" ? TEXT.refused : TEXT.failed;
      status.setAttribute("data-error", error.message);
    });
  }

  var lat = script.getAttribute("data-lat"), lng = script.getAttribute("data-lng");
  if (lat && lng) {
    load(Number(lat), Number(lng));
  } else if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(function (p) { load(p.coords.latitude, p.coords.longitude); },
      function () { status.textContent = TEXT.where; load(null, null); }, {timeout: 8000, maximumAge: 600000});
  } else {
    load(null, null);
  }
})();
