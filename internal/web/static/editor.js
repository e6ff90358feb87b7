// The survey editor and survey page, a little quicker with JavaScript:
// the repeat rule follows the schedule picker as it changes (the server
// writes the same rule on save), Enter in "Add a language" adds it, and
// the survey's link has a copy button. Everything works without it.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };

  // rule mirrors schedulePicker.rule in internal/web/schedule.go.
  function rule() {
    var freq = $("sched-freq").value;
    if (freq === "custom") return $("sched-custom").value.trim().replace(/^RRULE:/, "");
    var n = parseInt($("sched-interval").value, 10);
    var t = /^(\d{1,2}):(\d{2})$/.exec($("sched-time").value.trim());
    if (!(n >= 1 && n <= 100) || !t || +t[1] > 23 || +t[2] > 59) return "";
    var at = ";BYHOUR=" + (+t[1]) + (+t[2] ? ";BYMINUTE=" + (+t[2]) : "");
    switch (freq) {
      case "daily": return "FREQ=DAILY;INTERVAL=" + n + at;
      case "weekly": return "FREQ=WEEKLY;INTERVAL=" + n + ";BYDAY=" + $("sched-weekday").value + at;
      case "quarterly": n *= 3; // fall through
      case "monthly": return "FREQ=MONTHLY;INTERVAL=" + n + ";BYMONTHDAY=" + $("sched-monthday").value + at;
    }
    return "";
  }

  var schedule = $("schedule"), out = $("rrule");
  if (schedule && out) {
    var update = function () { out.textContent = rule() || "—"; };
    var show = $("show-rule");
    if (show) show.hidden = true; // the rule follows the picker
    schedule.addEventListener("input", update);
    schedule.addEventListener("change", update);
  }

  var addLang = document.querySelector("input[name=add_lang]");
  if (addLang && $("add-lang")) {
    addLang.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); $("add-lang").click(); }
    });
  }

  var copy = $("copy-link"), link = $("survey-link");
  if (copy && link && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(link.value).then(function () {
        copy.textContent = "Copied";
        setTimeout(function () { copy.textContent = "Copy link"; }, 2000);
      }, function () { link.select(); });
    });
  }
})();
