"use strict";
// factdesk's web page: ask questions, read the cited spans in their articles, manage articles.
// Everything the server sends (article text, titles, quotes, messages) goes onto the page as
// text nodes, never parsed as HTML: an uploaded HTML article must never run.

const KEY_STORAGE = "factdesk.apiKey";
const JSON_HEADERS = { "Content-Type": "application/json" };
const SNIPPET_CHARS = 320;
const SUMMARY_SENTENCES = 5;

const $ = (id) => document.getElementById(id);

/** A new element: props are attributes (or `class`, `text`, `on<event>`), children are nodes or text. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

function sentenceCase(message) {
  const text = String(message || "").trim();
  if (!text) return "Something went wrong.";
  const capital = text[0].toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

// ---- errors and status messages -------------------------------------------------------

function showError(id, message, field) {
  const box = $(id);
  box.textContent = sentenceCase(message);
  box.hidden = false;
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

function clearError(id, field) {
  const box = $(id);
  box.textContent = "";
  box.hidden = true;
  if (field) field.removeAttribute("aria-invalid");
}

function showStatus(message) {
  $("articles-status").textContent = message;
}

// ---- the API key, kept in this tab's session only -------------------------------------

const apiKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE) || "",
  set(value) {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
    showKeyState();
  },
};

function showKeyState() {
  const present = Boolean(apiKey.get());
  $("key-state").textContent = present ? "API key set for this session" : "No API key";
  $("key-set").textContent = present ? "Change API key" : "Set API key";
  $("key-forget").hidden = !present;
}

let keyPrompt = null; // one prompt at a time, shared by the requests that wait for it

/** Ask for a key in a modal dialog; resolves to the key, or null when cancelled. */
function askForKey(reason) {
  if (keyPrompt) return keyPrompt;
  const dialog = $("key-dialog");
  const input = $("key-input");
  $("key-reason").textContent = reason || "";
  $("key-reason").hidden = !reason;
  input.value = "";
  keyPrompt = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const value = input.value.trim();
      input.value = "";
      keyPrompt = null;
      if (dialog.returnValue === "save" && value) {
        apiKey.set(value);
        resolve(value);
      } else {
        resolve(null);
      }
    }, { once: true });
  });
  dialog.returnValue = "";
  dialog.showModal();
  input.focus();
  return keyPrompt;
}

// ---- talking to the API ---------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorOf(response) {
  let code = "http_error";
  let message = `The server answered ${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message);
}

/** fetch() with the API key; a 401 asks for a key and tries again, until the user cancels. */
async function api(path, init = {}) {
  for (;;) {
    const headers = new Headers(init.headers);
    const key = apiKey.get();
    if (key) headers.set("Authorization", `Bearer ${key}`);
    let response;
    try {
      response = await fetch(path, { ...init, headers });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, "network_error", "The server could not be reached");
    }
    if (response.ok) return response;
    const error = await errorOf(response);
    if (response.status !== 401) throw error;
    const entered = await askForKey(sentenceCase(error.message));
    if (!entered) throw error;
  }
}

/** Calls onEvent(name, data) for each server-sent event in the response body. */
async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let name = "message";
  let data = [];
  const line = (text) => {
    if (text === "") {
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
      name = "message";
      data = [];
    } else if (text.startsWith("event:")) {
      name = text.slice(6).trim();
    } else if (text.startsWith("data:")) {
      data.push(text.slice(5).replace(/^ /, ""));
    } // comments (": ping") and other fields are ignored
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    // A trailing "\r" may be the first half of "\r\n": keep it for the next chunk.
    const held = buffer.endsWith("\r") ? "\r" : "";
    const lines = (held ? buffer.slice(0, -1) : buffer).split(/\r\n|\r|\n/);
    buffer = lines.pop() + held;
    lines.forEach(line);
  }
  if (buffer) line(buffer.replace(/\r$/, ""));
  line("");
}

// ---- citations, passages and the article reader ---------------------------------------

const articleCache = new Map();
let articles = [];

function titleOf(documentId) {
  const known = articles.find((a) => a.id === documentId);
  return known ? known.title : documentId;
}

/** Sentences with their numbered citation marks, and the numbered list of quotes. */
function renderCited(sentences, prefix) {
  const numbers = new Map();
  const sources = [];
  const pieces = sentences.map((sentence) => {
    const nodes = [el("span", { class: sentence.supported ? "sentence" : "sentence unsupported" },
      sentence.text)];
    if (!sentence.supported) {
      nodes.push(el("span", { class: "flag" }, " (no article supports this sentence)"));
    }
    for (const citation of sentence.citations || []) {
      const key = `${citation.document_id}\u0000${citation.start}\u0000${citation.end}`;
      let number = numbers.get(key);
      if (!number) {
        number = sources.length + 1;
        numbers.set(key, number);
        sources.push(citation);
      }
      nodes.push(citeMark(citation, number, prefix));
    }
    return nodes;
  });
  const text = el("p", { class: "cited-text" });
  pieces.forEach((nodes, index) => {
    if (index) text.append(" ");
    text.append(...nodes);
  });
  const list = el("ol", { class: "sources" }, sources.map((c, i) => sourceItem(c, i + 1, prefix)));
  return { text, list, count: sources.length, pieces };
}

function citeMark(citation, number, prefix) {
  return el("button", {
    type: "button",
    class: "cite-mark",
    title: citation.quote,
    "aria-label": `Citation ${number}`,
    "aria-describedby": `${prefix}-source-${number}`,
    onclick: (event) => openArticle(citation.document_id, citation.start, citation.end,
      citation.quote, event.currentTarget),
  }, `[${number}]`);
}

/** "(Source, 2025-04-30)": where and when the cited statement comes from. */
function sourceDate(citation) {
  const when = citation.stated ? `said to date from ${citation.stated}` : citation.published;
  const facts = [citation.source, when].filter(Boolean);
  return facts.length ? [el("span", { class: "source-date" }, `(${facts.join(", ")})`), " "] : [];
}

function sourceItem(citation, number, prefix) {
  const title = citation.title || titleOf(citation.document_id);
  return el("li", { id: `${prefix}-source-${number}`, class: "source" },
    el("q", { class: "quote" }, citation.quote), " ",
    el("span", { class: "source-title" }, `— ${title}`), " ",
    ...sourceDate(citation),
    el("button", {
      type: "button",
      class: "link",
      "aria-label": `Show citation ${number} in “${title}”`,
      onclick: (event) => openArticle(citation.document_id, citation.start, citation.end,
        citation.quote, event.currentTarget),
    }, "Show in article"));
}

function snippet(text) {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS).trimEnd()}…` : flat;
}

function passageList(passages) {
  return el("ol", { class: "passages" }, passages.map((passage, index) => el("li", { class: "passage" },
    el("div", { class: "passage-head" },
      el("span", { class: "source-title" }, passage.title || titleOf(passage.document_id)),
      el("span", { class: "score" }, `score ${passage.score.toFixed(2)}`)),
    el("p", { class: "passage-text" }, snippet(passage.text)),
    el("button", {
      type: "button",
      class: "link",
      "aria-label": `Show passage ${index + 1} in its article`,
      onclick: (event) => openArticle(passage.document_id, passage.start, passage.end,
        passage.text, event.currentTarget),
    }, "Show in article"))));
}

async function fetchArticle(documentId) {
  if (!articleCache.has(documentId)) {
    const response = await api(`v1/documents/${encodeURIComponent(documentId)}`);
    articleCache.set(documentId, await response.json());
  }
  return articleCache.get(documentId);
}

let articleOpener = null;

/** Open an article; with start/end, highlight that span and scroll it into view. */
async function openArticle(documentId, start, end, quote, opener) {
  const dialog = $("article-dialog");
  const body = $("article-text");
  const note = $("article-note");
  articleOpener = opener || null;
  let article;
  try {
    article = await fetchArticle(documentId);
  } catch (error) {
    $("article-title").textContent = titleOf(documentId);
    $("article-meta").replaceChildren();
    body.replaceChildren();
    note.textContent = sentenceCase(error.message);
    note.hidden = false;
    if (!dialog.open) dialog.showModal();
    return;
  }
  $("article-title").textContent = article.title || documentId;
  const facts = [article.source, article.published, article.author].filter(Boolean);
  const meta = [facts.join(" · ")];
  if (article.url && /^https?:\/\//i.test(article.url)) {
    meta.push(facts.length ? " · " : "",
      el("a", { href: article.url, rel: "noopener noreferrer", target: "_blank" }, "original"));
  }
  $("article-meta").replaceChildren(...meta);
  note.hidden = true;
  note.textContent = "";
  let mark = null;
  const text = article.text;
  if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= text.length) {
    mark = el("mark", { id: "highlight", tabindex: "-1" }, text.slice(start, end));
    body.replaceChildren(text.slice(0, start), mark, text.slice(end));
    if (typeof quote === "string" && text.slice(start, end) !== quote) {
      note.textContent = "The stored article no longer holds this quote at these offsets: it has "
        + "changed since the answer was given.";
      note.hidden = false;
    }
  } else {
    body.replaceChildren(text);
  }
  if (!dialog.open) dialog.showModal();
  body.scrollTop = 0;
  if (mark) {
    mark.scrollIntoView({ block: "center" });
    mark.focus({ preventScroll: true });
  } else {
    $("article-close").focus();
  }
}

// ---- asking ---------------------------------------------------------------------------

let asking = null;

function describeAnswer(answer) {
  if (answer.mode === "llm") {
    const prompt = answer.prompt ? ` (prompt “${answer.prompt.name}” v${answer.prompt.version})` : "";
    return `Written by the LLM${prompt}; every citation was checked against the stored article.`;
  }
  const confidence = `confidence ${Math.round(answer.confidence * 100)}%`;
  if (answer.fallback_reason) {
    return `Offline answer, ${confidence}: the LLM's answer could not be used `
      + `(${answer.fallback_reason}).`;
  }
  const asOf = answer.as_of ? `; evidence as of ${answer.as_of}` : "";
  return `Offline answer, ${confidence}${asOf}.`;
}

function renderAnswer(answer) {
  const view = $("answer");
  const parts = [];
  if (answer.abstained) {
    parts.push(el("div", { class: "abstained" },
      el("p", { class: "verdict" }, "No answer"),
      el("p", { class: "abstain-text" }, answer.answer)));
    if (answer.passages.length) {
      parts.push(el("h3", {}, "The closest passages it looked at"), passageList(answer.passages));
    }
  } else {
    const sentences = answer.sentences && answer.sentences.length ? answer.sentences
      : [{ text: answer.answer, citations: answer.citations, supported: true }];
    const cited = renderCited(sentences, "ask");
    cited.text.classList.add("answer-text");
    if (answer.answer.length <= 80) cited.text.classList.add("short");
    parts.push(cited.text);
    if (cited.count) parts.push(el("h3", {}, "Citations"), cited.list);
    if (answer.supersedes && answer.supersedes.length) {
      parts.push(el("h3", {}, "Older figures, superseded"), el("ol", { class: "sources superseded" },
        answer.supersedes.map((c, i) => sourceItem(c, i + 1, "superseded"))));
    }
    if (answer.passages.length) {
      parts.push(el("details", { class: "searched" },
        el("summary", {}, `Passages searched (${answer.passages.length})`),
        passageList(answer.passages)));
    }
  }
  parts.push(el("p", { class: "meta" }, describeAnswer(answer)));
  view.replaceChildren(...parts);
}

async function askStreaming(body, signal) {
  const response = await api("v1/ask", {
    method: "POST",
    headers: { ...JSON_HEADERS, Accept: "text/event-stream" },
    body: JSON.stringify({ ...body, stream: true }),
    signal,
  });
  let draft = null;
  let final = null;
  let failure = null;
  await readEvents(response, (name, data) => {
    if (name === "delta") {
      if (!draft) {
        draft = el("p", { class: "draft-text" });
        $("answer").replaceChildren(el("div", { class: "draft" },
          el("p", { class: "draft-label" }, "Draft, not yet checked against the articles:"),
          draft));
      }
      draft.append(data.text);
    } else if (name === "answer") {
      final = data;
    } else if (name === "error") {
      failure = new ApiError(200, data.error.code, data.error.message);
    }
  });
  if (failure) throw failure;
  if (!final) throw new ApiError(200, "stream_ended", "The answer stream ended before the answer");
  return final;
}

async function askPlain(body, signal) {
  const response = await api("v1/ask", {
    method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body), signal,
  });
  return response.json();
}

/** The date and source filters that are set, as /v1/ask takes them. */
function filterFields() {
  const fields = {};
  for (const [id, name] of [["published-after", "published_after"],
    ["published-before", "published_before"], ["as-of", "as_of"]]) {
    if ($(id).value) fields[name] = $(id).value;
  }
  const sources = $("sources").value.split(",").map((s) => s.trim()).filter(Boolean);
  if (sources.length) fields.sources = sources;
  return fields;
}

async function onAsk(event) {
  event.preventDefault();
  const field = $("question");
  const mode = $("mode").value;
  const body = { question: field.value, mode, ...filterFields() };
  if (asking) asking.abort();
  const controller = new AbortController();
  asking = controller;
  clearError("ask-error", field);
  const view = $("answer");
  view.setAttribute("aria-busy", "true");
  view.replaceChildren(el("p", { class: "working" }, "Searching the articles…"));
  try {
    // Offline answers come whole; otherwise stream, so an LLM's draft shows as it is written.
    const answer = mode === "offline" ? await askPlain(body, controller.signal)
      : await askStreaming(body, controller.signal);
    if (controller.signal.aborted) return;
    renderAnswer(answer);
  } catch (error) {
    if (error.name === "AbortError" || controller.signal.aborted) return;
    view.replaceChildren();
    const badQuestion = error.status === 422;
    showError("ask-error", error.message, badQuestion ? field : null);
  } finally {
    if (asking === controller) {
      view.setAttribute("aria-busy", "false");
      asking = null;
    }
  }
}

// ---- articles -------------------------------------------------------------------------

async function loadArticles() {
  try {
    const response = await api("v1/documents");
    articles = (await response.json()).documents;
    clearError("articles-error");
  } catch (error) {
    showError("articles-error", error.message);
    return;
  }
  renderArticles();
}

const selected = new Set(); // article ids ticked for a timeline

function renderArticles() {
  const present = new Set(articles.map((article) => article.id));
  for (const id of [...selected]) if (!present.has(id)) selected.delete(id);
  $("timeline-button").disabled = selected.size === 0;
  const rows = articles.map((article) => articleRow({ ...article, title: article.title || article.id }));
  $("articles").replaceChildren(...rows);
  $("articles-empty").hidden = articles.length > 0;
  $("articles-count").textContent = `(${articles.length})`;
}

function articleRow(article) {
  return el("tr", { "data-id": article.id },
    el("td", { class: "select" },
      el("input", {
        type: "checkbox",
        "aria-label": `Select “${article.title}” for a timeline`,
        checked: selected.has(article.id),
        onchange: (event) => {
          if (event.currentTarget.checked) selected.add(article.id);
          else selected.delete(article.id);
          $("timeline-button").disabled = selected.size === 0;
        },
      })),
    el("th", { scope: "row", "data-label": "Title" },
      el("button", {
        type: "button",
        class: "link title-link",
        onclick: (event) => openArticle(article.id, null, null, null, event.currentTarget),
      }, article.title)),
    el("td", { "data-label": "Source" }, article.source || "—"),
    el("td", { "data-label": "Date", class: "date" }, article.published || "—"),
    el("td", { "data-label": "Chunks", class: "num" }, String(article.chunks)),
    el("td", { class: "actions" },
      el("button", {
        type: "button",
        "aria-label": `Summarize “${article.title}”`,
        onclick: (event) => summarize(article, event.currentTarget),
      }, "Summarize"),
      el("button", {
        type: "button",
        class: "danger",
        "aria-label": `Delete “${article.title}”`,
        onclick: () => deleteArticle(article),
      }, "Delete")));
}

async function deleteArticle(article) {
  if (!window.confirm(`Delete “${article.title}”? Its text and chunks leave the store.`)) return;
  try {
    await api(`v1/documents/${encodeURIComponent(article.id)}`, { method: "DELETE" });
  } catch (error) {
    showError("articles-error", error.message);
    return;
  }
  articleCache.delete(article.id);
  showStatus(`Deleted “${article.title}”.`);
  await loadArticles();
  $("articles-heading").focus();
}

function summarize(article, button) {
  return showSummary(`Summary of “${article.title}”`,
    { document_id: article.id, max_sentences: SUMMARY_SENTENCES }, button);
}

function timeline(button) {
  const ids = articles.map((article) => article.id).filter((id) => selected.has(id));
  const named = ids.length === 1 ? "1 article" : `${ids.length} articles`;
  return showSummary(`Timeline of ${named}`, { document_ids: ids, timeline: true }, button);
}

async function showSummary(title, request, button) {
  const view = $("summary");
  const heading = el("h3", { id: "summary-heading", tabindex: "-1" }, title);
  view.hidden = false;
  view.setAttribute("aria-busy", "true");
  view.replaceChildren(heading, el("p", { class: "working" }, "Summarizing…"));
  button.disabled = true;
  try {
    const response = await api("v1/summarize", {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify(request),
    });
    const summary = await response.json();
    const sentences = summary.sentences && summary.sentences.length ? summary.sentences
      : [{ text: summary.summary, citations: [], supported: false }];
    const cited = summary.timeline ? renderTimeline(sentences) : renderCited(sentences, "summary");
    const parts = [heading, cited.text];
    if (cited.count) parts.push(el("h4", {}, "Citations"), cited.list);
    parts.push(el("p", { class: "meta" },
      summary.timeline ? "Timeline: sentences taken from the articles, dated, oldest first."
        : summary.mode === "llm"
          ? "Written by the LLM; every citation was checked against the article."
          : "Offline summary: sentences taken from the article."));
    view.replaceChildren(...parts);
  } catch (error) {
    const message = error.status === 404 && error.code === "not_found"
      ? "This server does not offer summaries yet." : sentenceCase(error.message);
    view.replaceChildren(heading, el("p", { class: "error", role: "alert" }, message));
  } finally {
    view.setAttribute("aria-busy", "false");
    button.disabled = request.timeline ? selected.size === 0 : false;
    heading.focus();
  }
}

/** A timeline: one list item per dated sentence, its citations numbered as in a summary. */
function renderTimeline(sentences) {
  const cited = renderCited(sentences, "summary");
  const items = sentences.map((sentence, index) => el("li", {},
    el("time", sentence.date ? { datetime: sentence.date } : {}, sentence.date || "Undated"),
    " ", ...cited.pieces[index]));
  return { text: el("ol", { class: "timeline" }, items), list: cited.list, count: cited.count };
}

async function addArticle(event) {
  event.preventDefault();
  const text = $("add-text");
  const file = $("add-file").files[0];
  clearError("add-error", text);
  if (!file && !text.value.trim()) {
    showError("add-error", "Paste the article's text or choose a file", text);
    return;
  }
  if (file && text.value.trim()) {
    showError("add-error", "Paste text or choose a file, not both", text);
    return;
  }
  if (file && !/\.(txt|text|md|markdown|html?|pdf)$/i.test(file.name)) {
    showError("add-error", "Choose a .txt, .md, .html or .pdf file", $("add-file"));
    return;
  }
  const fields = {};
  for (const name of ["title", "source", "published", "author", "url", "format"]) {
    const value = $(`add-${name}`).value.trim();
    if (value) fields[name] = value;
  }
  const button = $("add-button");
  button.disabled = true;
  showStatus("Adding the article…");
  let result;
  try {
    let response;
    if (file) {
      const form = new FormData();
      form.append("file", file, file.name);
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      response = await api("v1/documents/upload", { method: "POST", body: form });
    } else {
      response = await api("v1/documents", {
        method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ text: text.value, ...fields }),
      });
    }
    result = await response.json();
  } catch (error) {
    showStatus("");
    showError("add-error", error.message);
    return;
  } finally {
    button.disabled = false;
  }
  articleCache.delete(result.id);
  const chunks = `${result.chunks} chunk${result.chunks === 1 ? "" : "s"}`;
  showStatus({
    created: `Added “${result.title}” (${chunks}).`,
    updated: `Updated “${result.title}” (${chunks}).`,
    unchanged: `“${result.title}” is already stored, unchanged.`,
  }[result.status] || `Stored “${result.title}”.`);
  event.target.reset();
  await loadArticles();
}

// ---- start ----------------------------------------------------------------------------

function start() {
  showKeyState();
  // Following "#question" only moves the scroll position; the link should move the focus too.
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    $("question").focus();
  });
  $("ask-form").addEventListener("submit", onAsk);
  $("add-form").addEventListener("submit", addArticle);
  $("timeline-button").addEventListener("click", (event) => timeline(event.currentTarget));
  $("key-set").addEventListener("click", async () => {
    if (await askForKey("")) loadArticles();
  });
  $("key-forget").addEventListener("click", () => apiKey.set(""));
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("key-dialog").close("save");
  });
  $("key-cancel").addEventListener("click", () => $("key-dialog").close("cancel"));
  $("article-close").addEventListener("click", () => $("article-dialog").close());
  $("article-dialog").addEventListener("close", () => {
    if (articleOpener && articleOpener.isConnected) articleOpener.focus();
    articleOpener = null;
  });
  loadArticles();
}

start();
