// Starts rasa-webchat 1.0.1 for Vraagbaak (the snippet in docs/widget-rasa-webchat.md).
(function () {
  var server = document.currentScript.getAttribute("data-server");
  // Where rasa-webchat keeps the transcript (src/constants.js) and, with rules on, visited pages.
  var KEYS = ["chat_session", "rasaWebchatPro"];

  function wipe() {
    try {
      KEYS.forEach(function (key) {
        sessionStorage.removeItem(key);
        localStorage.removeItem(key);
      });
    } catch (e) { /* storage switched off: nothing kept */ }
  }

  var forgetting = false;
  // The bot marks its "vergeet dit gesprek" confirmation with {"vraagbaak": {"gewist": true}}.
  function onBotMessage(message) {
    var marker = message && message.custom && message.custom.vraagbaak;
    if (!marker || marker.gewist !== true || forgetting) return;
    forgetting = true;
    wipe();
    // The widget writes its transcript again on its next change: wipe again as the page goes, and
    // start afresh once the confirmation has been read.
    window.addEventListener("pagehide", wipe);
    setTimeout(function () { location.reload(); }, 3000);
  }

  window.WebChat.default({
    socketUrl: server,
    socketPath: "/socket.io/",
    title: "Vraagbaak",
    subtitle: "Vragen over Amnesty en sekswerk",
    inputTextFieldHint: "Typ je vraag",
    // Session storage: closing the tab forgets the transcript too.
    params: { storage: "session" },
    // No rules engine: it would keep a history of the visitor's pages in localStorage.
    withRules: false,
    // Show each message when it arrives. rasa-webchat's default holds every message back 0.8-3 s in a queue,
    // so after a long answer the "forgotten" confirmation could still be queued when the page reloads.
    customMessageDelay: function () { return 0; },
    onSocketEvent: { bot_uttered: onBotMessage }
  }, null);
})();
