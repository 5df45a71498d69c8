/*
 * Vraagbaak chat widget: talks to Rasa's socket.io channel without any library.
 *
 * Embed:  <script src="/vraagbaak-widget.js" data-server="https://bot.example.org"
 *                 data-exit-url="https://www.google.com/search?q=weer" defer></script>
 * Optional: data-target="#some-element" to render inside that element.
 *
 * Privacy: nothing goes to localStorage or cookies. The transcript and the session id live in
 * sessionStorage (gone when the tab closes), so the conversation survives a page change on the same
 * site and "Snel weg" can forget all of it; "Snel weg" wipes both, and so does the bot's confirmation
 * of "vergeet dit gesprek". The session id is a token the server issued and signed; the widget only
 * keeps it and sends it back.
 * Safety: every piece of message text is put in the DOM with textContent / text nodes, never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) return; // loaded as a module or injected late: no config to read, so do nothing
  var config = script.dataset;

  // Must match credentials.yml (socketio: user_message_evt / bot_message_evt).
  var USER_EVENT = "user_uttered";
  var BOT_EVENT = "bot_uttered";
  var FORGET_PAYLOAD = "/gesprek_vergeten"; // intent that makes the bot drop the conversation
  var BULLET = "• "; // the knowledge base renders list items as lines starting with this
  var STORE_KEY = "vraagbaak.gesprek";
  var SESSION_KEY = "vraagbaak.sessie"; // the server's session token, so a reload goes on with the same conversation
  var SESSION_ID_PATTERN = /^[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/; // id "." signature (vraagbaak/core/session_tokens.py)
  var MAX_STORED = 300; // keeps sessionStorage small even in a very long chat
  var DOUBLE_ESCAPE_MS = 1000;
  var REPLY_TIMEOUT_MS = 20000;

  var TEXT = {
    title: "Vraagbaak",
    exit: "Snel weg",
    exitHint: "Snel weg: klik op de knop of druk 2 keer op Esc.",
    notice: "Deze chatbot geeft de officiële antwoorden van Amnesty International en bewaart je berichten niet.",
    log: "Gesprek",
    empty: "Nog geen berichten. Stel hieronder je vraag.",
    you: "Jij: ",
    bot: "Vraagbaak: ",
    official: "Officieel antwoord van Amnesty International",
    call: "Bel",
    label: "Stel je vraag",
    placeholder: "Typ hier je vraag",
    send: "Verstuur",
    waiting: "Vraagbaak zoekt een antwoord…",
    offline: "Geen verbinding. Probeer het later opnieuw."
  };

  var serverUrl = safeUrl(config.server, location.origin);
  var exitUrl = safeUrl(config.exitUrl, "https://www.google.com/search?q=weer");

  // Only http(s) URLs: a typo'd or hostile "javascript:" value must never be navigated to.
  function safeUrl(value, fallback) {
    try {
      var url = new URL(value || fallback, location.href);
      if (url.protocol === "http:" || url.protocol === "https:") return url.href;
    } catch (e) { /* fall through */ }
    return fallback;
  }

  // ---- Small DOM helpers (text only, never markup) ----
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function srOnly(text) {
    return el("span", "vb-sr", text);
  }

  // ---- Stylesheet next to the script, so embedding stays one tag ----
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("vraagbaak-widget.css", script.src).href;
  script.parentNode.insertBefore(css, script.nextSibling);

  // ---- Build the widget ----
  var uid = "vb" + Math.random().toString(36).slice(2, 8); // unique ids if a page embeds it twice
  var root = el("section", "vb");
  root.lang = "nl";
  root.setAttribute("aria-labelledby", uid + "-title");

  var header = el("div", "vb-header");
  var title = el("h2", "vb-title", TEXT.title);
  title.id = uid + "-title";
  var exitButton = el("button", "vb-exit", TEXT.exit);
  exitButton.type = "button";
  exitButton.setAttribute("aria-describedby", uid + "-exithint");
  header.appendChild(title);
  header.appendChild(exitButton);

  var notice = el("p", "vb-notice", TEXT.notice);
  var exitHint = el("p", "vb-hint", TEXT.exitHint);
  exitHint.id = uid + "-exithint";

  // role=log with aria-live=polite: screen readers read new messages without losing their place.
  var log = el("div", "vb-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", TEXT.log);
  log.tabIndex = 0; // a scrollable region must be reachable by keyboard
  var empty = el("p", "vb-empty", TEXT.empty);
  log.appendChild(empty);

  // Waiting indicator is visual only: the answer itself is what gets announced.
  var typing = el("p", "vb-typing", TEXT.waiting);
  typing.setAttribute("aria-hidden", "true");
  typing.hidden = true;

  var status = el("p", "vb-status");
  status.setAttribute("role", "status");

  var form = el("form", "vb-form");
  var label = el("label", "vb-label", TEXT.label);
  label.htmlFor = uid + "-input";
  var row = el("div", "vb-row");
  var input = el("input", "vb-input");
  input.id = uid + "-input";
  input.type = "text";
  input.autocomplete = "off";
  input.placeholder = TEXT.placeholder;
  input.setAttribute("enterkeyhint", "send");
  var sendButton = el("button", "vb-send", TEXT.send);
  sendButton.type = "submit";
  row.appendChild(input);
  row.appendChild(sendButton);
  form.appendChild(label);
  form.appendChild(row);

  [header, notice, exitHint, log, typing, status, form].forEach(function (part) {
    root.appendChild(part);
  });

  // ---- Rendering messages ----
  var transcript = [];
  var botTurn = null; // consecutive bot messages share one visual turn
  var lastUserBubble = null;
  var lastBotMessage = null; // shown again after a wipe: the bot's confirmation that it forgot

  // Plain text -> paragraphs and real lists. Blank lines separate blocks (Rasa also splits there).
  function renderText(parent, text) {
    text.split(/\n[ \t]*\n/).forEach(function (block) {
      var list = null;
      var para = null;
      block.split("\n").forEach(function (line) {
        if (!line.trim()) return;
        if (line.indexOf(BULLET) === 0) {
          para = null;
          if (!list) list = parent.appendChild(el("ul", "vb-list"));
          list.appendChild(el("li", null, line.slice(BULLET.length)));
        } else {
          list = null;
          if (para) para.appendChild(document.createElement("br"));
          else para = parent.appendChild(el("p", "vb-p"));
          para.appendChild(document.createTextNode(line));
        }
      });
    });
  }

  function renderUser(text) {
    empty.hidden = true;
    botTurn = null;
    var bubble = el("div", "vb-msg vb-user");
    bubble.appendChild(srOnly(TEXT.you));
    bubble.appendChild(el("p", "vb-p", text));
    log.appendChild(bubble);
    lastUserBubble = bubble;
    log.scrollTop = log.scrollHeight;
  }

  function renderBot(msg) {
    empty.hidden = true;
    if (!botTurn) {
      botTurn = log.appendChild(el("div", "vb-turn"));
      botTurn.appendChild(srOnly(TEXT.bot));
    }
    if (msg.official) {
      botTurn.appendChild(el("p", "vb-official", TEXT.official));
    }
    lastBotMessage = msg;
    if (msg.text || msg.buttons) {
      var bubble = botTurn.appendChild(el("div", "vb-msg vb-bot"));
      if (msg.text) renderText(bubble, msg.text);
      if (msg.buttons && msg.buttons.length) {
        var choices = bubble.appendChild(el("ul", "vb-choices"));
        msg.buttons.forEach(function (b) {
          var button = el("button", "vb-choice", b.title);
          button.type = "button";
          button.addEventListener("click", function () {
            ask(b.payload, b.title);
          });
          choices.appendChild(el("li")).appendChild(button);
        });
      }
    }
    // Long answers: keep the question at the top so reading starts at the beginning of the answer.
    // (.vb-log is position: relative, so offsetTop is measured from the top of the log.)
    log.scrollTop = lastUserBubble ? lastUserBubble.offsetTop - 8 : log.scrollHeight;
  }

  function remember(item) {
    // After quick exit the bot may still answer (e.g. the forget request) before the page is
    // gone; storing that would undo the wipe.
    if (leaving) return;
    transcript.push(item);
    if (transcript.length > MAX_STORED) transcript = transcript.slice(-MAX_STORED);
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(transcript));
    } catch (e) { /* storage full or blocked: the chat still works, it just is not restored */ }
  }

  function restore() {
    var saved = [];
    try {
      saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "[]");
    } catch (e) { /* unreadable: start empty */ }
    if (!Array.isArray(saved)) return;
    saved.forEach(function (item) {
      // Re-validate: sessionStorage is writable by any script on the page.
      if (item && item.who === "user" && typeof item.text === "string") {
        renderUser(item.text);
        transcript.push(item);
      } else if (item && item.who === "bot") {
        var msg = cleanBotMessage(item);
        if (msg) {
          renderBot(msg);
          var bubbles = log.querySelectorAll(".vb-bot");
          linkNumbers(bubbles[bubbles.length - 1], callNumbers({ custom: { vraagbaak: { bellen: item.bellen } } }));
          transcript.push(item);
        }
      }
    });
  }

  // The socket.io channel makes text safe for Markdown widgets (vraagbaak/adapters/channels/
  // formatting.py, markdown_safe): two spaces before a line break, a backslash before a few marks.
  // This widget shows plain text, so it removes exactly those again.
  function fromMarkdownSafe(text) {
    return text.replace(/  \n(?!\n)/g, "\n").replace(/\\([\\`*_\[\]~|+#>.)-])/g, "$1");
  }

  // Keep only what we understand from a bot_uttered payload (Rasa's socketio channel sends
  // buttons as "quick_replies"; accept "buttons" too) and the official-answer marker.
  function cleanBotMessage(data) {
    if (!data || typeof data !== "object") return null;
    var msg = {};
    if (typeof data.text === "string" && data.text.trim()) msg.text = fromMarkdownSafe(data.text);
    var raw = Array.isArray(data.quick_replies) ? data.quick_replies : data.buttons;
    if (Array.isArray(raw)) {
      msg.buttons = raw.filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      }).map(function (b) {
        return { title: b.title, payload: b.payload };
      });
    }
    var custom = data.custom && data.custom.vraagbaak;
    if (data.official === true || (custom && custom.officieel === true)) msg.official = true;
    return msg.text || (msg.buttons && msg.buttons.length) || msg.official ? msg : null;
  }

  // ---- Engine.IO v4 / Socket.IO v4 over a plain WebSocket ----
  var ws = null;
  var sessionId = null; // set by session_confirm; messages before that wait in `pending`
  var pending = [];
  var retryDelay = 1000;
  var retryTimer = null;
  var heartbeatTimer = null;
  var replyTimer = null;
  var leaving = false;

  function emit(event, data) {
    ws.send("42" + JSON.stringify([event, data]));
  }

  function connect() {
    var url = serverUrl.replace(/^http/, "ws").replace(/\/+$/, "") + "/socket.io/?EIO=4&transport=websocket";
    try {
      ws = new WebSocket(url);
    } catch (e) {
      offline();
      return;
    }
    ws.onmessage = function (event) {
      if (typeof event.data !== "string") return; // binary packets: not used by Rasa
      try {
        onPacket(event.data);
      } catch (e) { /* a malformed packet must not break the widget; skip it */ }
    };
    ws.onclose = function () {
      ws = null;
      sessionId = null;
      clearTimeout(heartbeatTimer);
      if (leaving) return;
      offline();
      retryTimer = setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000); // back off so a down server is not hammered
    };
  }

  // The server pings; if pings stop for longer than it promised, the link is dead even if
  // the browser has not noticed yet, so drop it and reconnect.
  function expectPing(ms) {
    clearTimeout(heartbeatTimer);
    heartbeatTimer = setTimeout(function () {
      if (ws) ws.close();
    }, ms);
  }

  var pingWindow = 45000;

  function onPacket(packet) {
    var type = packet.charAt(0);
    if (type === "0") { // Engine.IO open: {"sid", "pingInterval", "pingTimeout", ...}
      var open = JSON.parse(packet.slice(1));
      pingWindow = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
      expectPing(pingWindow);
      ws.send("40"); // Socket.IO connect to the default namespace
    } else if (type === "2") { // ping -> pong
      ws.send("3");
      expectPing(pingWindow);
    } else if (type === "1") { // Engine.IO close
      ws.close();
    } else if (type === "4") {
      onSocketIo(packet.charAt(1), packet.slice(2));
    }
  }

  function onSocketIo(type, body) {
    if (type === "0") { // connected: {"sid": "..."}
      // After a reload or reconnect, ask for the conversation this tab already had, so typed
      // numbers keep their meaning and "Snel weg" forgets everything said before the reload.
      // Only the token the server gave this tab resumes it; a new tab (or anything else) gets a
      // new session from the server (vraagbaak/adapters/channels/socketio.py).
      emit("session_request", { session_id: storedSession() });
    } else if (type === "2") { // event: ["name", data], possibly after an ack id
      var event = JSON.parse(body.slice(body.indexOf("[")));
      if (event[0] === "session_confirm") onReady(event[1]);
      else if (event[0] === BOT_EVENT) onBotMessage(event[1]);
    } else if (type === "1" || type === "4") { // namespace disconnect or connect error
      if (ws) ws.close();
    }
  }

  function storedSession() {
    try {
      var stored = sessionStorage.getItem(SESSION_KEY);
      return stored && SESSION_ID_PATTERN.test(stored) ? stored : null; // storage is writable by any script
    } catch (e) {
      return null;
    }
  }

  function onReady(id) {
    sessionId = typeof id === "string" ? id : String(id);
    if (!leaving) {
      try {
        sessionStorage.setItem(SESSION_KEY, sessionId);
      } catch (e) { /* blocked: a reload then starts a new conversation */ }
    }
    retryDelay = 1000;
    status.textContent = "";
    pending.splice(0).forEach(function (text) {
      emit(USER_EVENT, { message: text, session_id: sessionId });
    });
  }

  // Phone numbers the bot names in a message (custom.vraagbaak.bellen) become call links. Only the
  // bot's own messages carry them; official answers are never changed.
  function callNumbers(data) {
    var custom = data && data.custom && data.custom.vraagbaak;
    var numbers = custom && Array.isArray(custom.bellen) ? custom.bellen : [];
    return numbers.filter(function (n) {
      return typeof n === "string" && /^\+?[0-9][0-9 -]{1,18}[0-9]$/.test(n);
    });
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  }

  function linkNumbers(bubble, numbers) {
    if (!bubble || !numbers.length) return;
    var sorted = numbers.slice().sort(function (a, b) { return b.length - a.length; });
    var pattern = new RegExp("(?<![0-9+-])(" + sorted.map(escapeRegExp).join("|") + ")(?![0-9-])", "g");
    var walker = document.createTreeWalker(bubble, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) {
      if (!walker.currentNode.parentNode.closest("a")) nodes.push(walker.currentNode);
    }
    nodes.forEach(function (node) {
      var text = node.nodeValue;
      pattern.lastIndex = 0;
      if (!pattern.test(text)) return;
      var fragment = document.createDocumentFragment();
      var last = 0;
      text.replace(pattern, function (match, number, offset) {
        fragment.appendChild(document.createTextNode(text.slice(last, offset)));
        var link = el("a", "vb-tel", number);
        link.href = "tel:" + number.replace(/[^0-9+]/g, "");
        link.setAttribute("aria-label", TEXT.call + " " + number);
        fragment.appendChild(link);
        last = offset + match.length;
        return match;
      });
      fragment.appendChild(document.createTextNode(text.slice(last)));
      node.parentNode.replaceChild(fragment, node);
    });
  }

  function onBotMessage(data) {
    if (leaving) return; // the wiped page must stay empty until it is replaced
    if (isForgetConfirmation(data)) {
      forgotten();
      return;
    }
    var numbers = callNumbers(data);
    if (numbers.length && !data.text) {
      // Rasa sends the text first, split into paragraphs, and its custom part after: link the numbers in
      // this turn's bubbles, and store them with this turn's messages so that a reload links them again.
      linkNumbers(botTurn, numbers);
      for (var i = transcript.length - 1; i >= 0 && transcript[i].who === "bot"; i--) {
        var known = Array.isArray(transcript[i].bellen) ? transcript[i].bellen : [];
        transcript[i].bellen = known.concat(numbers.filter(function (n) { return known.indexOf(n) < 0; }));
      }
      if (transcript.length) remember(transcript.pop());
      return;
    }
    var msg = cleanBotMessage(data);
    if (!msg) return;
    clearTimeout(replyTimer);
    typing.hidden = true;
    renderBot(msg);
    var shown = log.querySelectorAll(".vb-bot");
    linkNumbers(shown[shown.length - 1], numbers);
    remember({ who: "bot", text: msg.text, buttons: msg.buttons, official: msg.official, bellen: numbers });
  }

  // The bot marks its "vergeet dit gesprek" confirmation with {"vraagbaak": {"gewist": true}}; the
  // text of the confirmation comes just before the marker (Rasa sends text, then custom).
  function isForgetConfirmation(data) {
    var custom = data && data.custom && data.custom.vraagbaak;
    return !!custom && custom.gewist === true;
  }

  // The bot forgot the conversation, so the tab does too: nothing said before stays on the page or in
  // storage, and the next message starts a new session the server issues.
  function forgotten() {
    var confirmation = lastBotMessage;
    transcript = [];
    try {
      sessionStorage.removeItem(STORE_KEY);
      sessionStorage.removeItem(SESSION_KEY);
    } catch (e) { /* storage blocked: nothing was stored */ }
    while (log.firstChild) log.removeChild(log.firstChild);
    botTurn = null;
    lastUserBubble = null;
    empty.hidden = false;
    log.appendChild(empty);
    clearTimeout(replyTimer);
    typing.hidden = true;
    // The confirmation stays readable, but only on the page: a reload starts with an empty window.
    if (confirmation) renderBot(confirmation);
    sessionId = null;
    if (ws) emit("session_request", { session_id: null });
  }

  function offline() {
    status.textContent = TEXT.offline;
    typing.hidden = true;
  }

  // ---- User actions ----
  function ask(message, shown) {
    renderUser(shown);
    remember({ who: "user", text: shown });
    if (ws && sessionId) emit(USER_EVENT, { message: message, session_id: sessionId });
    else {
      pending.push(message); // sent once the server confirms a session
      if (!ws) {
        offline();
        return;
      }
    }
    typing.hidden = false;
    clearTimeout(replyTimer);
    replyTimer = setTimeout(offline, REPLY_TIMEOUT_MS);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    ask(text, text);
  });

  // Quick exit must be instant: wipe what this tab holds, then replace the history entry so
  // "Back" does not return to the chat.
  function quickExit() {
    leaving = true;
    try {
      // Ask the bot to forget this conversation, without waiting for it. A socket frame sent
      // right before the page goes away is sometimes lost, so also send a beacon to socket.io's
      // forget route with the same token; beacons are made to survive the page being left.
      // Forgetting twice is harmless. text/plain keeps it a simple request (no CORS preflight).
      // Just after a reload the server may not have confirmed the stored token yet: send that one.
      var token = sessionId || storedSession();
      if (token) {
        if (ws && sessionId) emit(USER_EVENT, { message: FORGET_PAYLOAD, session_id: sessionId });
        if (navigator.sendBeacon) {
          navigator.sendBeacon(serverUrl.replace(/\/+$/, "") + "/webhooks/socketio/forget", new Blob(
            [JSON.stringify({ sender: token, message: FORGET_PAYLOAD })], { type: "text/plain" }));
        }
      }
    } catch (e) { /* leaving anyway */ }
    clearTimeout(retryTimer);
    try {
      sessionStorage.clear();
    } catch (e) { /* nothing stored */ }
    transcript = [];
    while (log.firstChild) log.removeChild(log.firstChild);
    input.value = "";
    location.replace(exitUrl);
  }

  exitButton.addEventListener("click", quickExit);

  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") return;
    var now = Date.now();
    if (now - lastEscape < DOUBLE_ESCAPE_MS) quickExit();
    else lastEscape = now;
  }, true);

  // ---- Mount ----
  // Restore before inserting, so the live region does not read the old conversation aloud again.
  restore();
  var target = config.target && document.querySelector(config.target);
  if (target) target.appendChild(root);
  else if (script.parentNode && script.parentNode !== document.head) script.parentNode.insertBefore(root, css.nextSibling);
  else document.body.appendChild(root);
  log.scrollTop = log.scrollHeight; // a restored conversation continues at its end
  connect();
})();
