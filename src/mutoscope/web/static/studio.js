// Mutoscope studio: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const TERMINAL = ["completed", "failed", "deleted"];

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body || {}),
    });
  }

  // Confirm destructive forms.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // -- live progress (Server-Sent Events) ---------------------------------------------------
  function watchProgress() {
    const nodes = Array.from(document.querySelectorAll("[data-watch]")).filter(
      (n) => !TERMINAL.includes(n.dataset.status)
    );
    if (!nodes.length || !window.EventSource) return;
    const ids = [...new Set(nodes.map((n) => n.dataset.watch))];
    const source = new EventSource("/studio/progress?ids=" + encodeURIComponent(ids.join(",")));
    source.onmessage = function (event) {
      const state = JSON.parse(event.data);
      document.querySelectorAll('[data-watch="' + state.id + '"]').forEach(function (wrap) {
        const pct = state.status === "completed" ? 100 : state.progress;
        wrap.dataset.status = state.status;
        const bar = wrap.querySelector(".progress");
        bar.setAttribute("aria-valuenow", String(pct));
        bar.querySelector("span").style.width = pct + "%";
        wrap.querySelector(".pct").textContent = pct + "%";
      });
      // Every status label of this video (beside the bar and in the details) says the same.
      document.querySelectorAll('[data-status-of="' + state.id + '"]').forEach(function (label) {
        label.textContent = state.status.replace("_", " ");
        label.className = "status status-" + state.status;
      });
      if (TERMINAL.includes(state.status)) {
        const pending = document.querySelector('[data-reload-on-complete="' + state.id + '"]');
        if (pending) setTimeout(() => window.location.reload(), 400);
        swapRow(state.id);
      }
    };
    source.addEventListener("done", () => source.close());
  }

  // A finished video's row on "My videos" becomes the server's row for that state (its
  // thumbnail, and Delete in place of Cancel): a stale Cancel would act on a finished video.
  function swapRow(id) {
    const row = document.getElementById("item-" + id);
    if (!row) return;
    row.querySelectorAll(".queue-actions button").forEach((b) => (b.disabled = true));
    fetch(window.location.href, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then(function (html) {
        const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("item-" + id);
        if (fresh) row.replaceWith(document.importNode(fresh, true));
        else row.remove(); // deleted meanwhile
      })
      .catch(() => window.location.reload());
  }

  // -- create page: per-model choices and the inline rights check ----------------------------
  function createPage() {
    const form = document.getElementById("create-form");
    if (!form) return;
    const models = JSON.parse(document.getElementById("models-data").textContent);
    const model = form.querySelector("#model");
    const fill = function (select, values, preferred) {
      const keep = select.value;
      select.textContent = "";
      values.forEach(function (value) {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = value;
        select.appendChild(option);
      });
      select.value = values.includes(keep) ? keep : values.includes(preferred) ? preferred : values[0];
    };
    // The "Advanced" panel: grey out the options this model does not take.
    const advanced = function (m) {
      const takes = m.options || [];
      [["steps", "steps"], ["guidance", "guidance"], ["negative_prompt", "negative_prompt"],
       ["lora", "loras"], ["preset", "preset"]].forEach(function (pair) {
        const field = form.querySelector("#" + pair[0]);
        if (field) field.disabled = !takes.includes(pair[1]);
      });
      const preset = form.querySelector("#preset");
      if (preset) fill(preset, [""].concat(m.presets || []), "");
      if (preset && preset.options.length) preset.options[0].textContent = "default";
      const lora = form.querySelector("#lora");
      if (lora) lora.placeholder = (m.loras || []).length ? m.loras.join(", ") : "this model declares no LoRAs";
    };
    model.addEventListener("change", function () {
      const m = models.find((x) => x.name === model.value);
      if (!m) return;
      fill(form.querySelector("#size"), m.sizes, "720x1280");
      fill(form.querySelector("#seconds"), m.seconds, m.seconds[0]);
      document.getElementById("model-description").textContent = m.description;
      if (m.example_prompt) form.querySelector("#prompt").placeholder = m.example_prompt;
      // Offer a reference image only for models that can use one.
      const imageField = document.getElementById("image-field");
      imageField.hidden = !m.accepts_image;
      imageField.querySelector("input").disabled = !m.accepts_image;
      advanced(m);
      check();
    });

    const prompt = form.querySelector("#prompt");
    const box = document.getElementById("rights-check");
    let timer = null;
    let seq = 0;
    let lastKey = null;
    const submitted = prompt.value.trim(); // the prompt a server-side answer (banner) is about
    async function check() {
      const text = prompt.value.trim();
      // Ticked characters: the prompt's names stand for them (not for namesakes).
      const characters = Array.from(
        document.querySelectorAll('input[name="characters"]:checked')
      ).map((box) => box.value);
      const key = model.value + "\n" + text + "\n" + characters.join(",");
      if (key === lastKey) return; // unchanged: keep the answer (and the layout) as it is
      lastKey = key;
      if (!text) { box.textContent = ""; box.className = "rights-check"; return; }
      const mine = ++seq;
      if (!box.textContent) {
        box.className = "rights-check info";
        box.textContent = "Checking the prompt against the rights registry…";
      }
      box.setAttribute("aria-busy", "true");
      try {
        const response = await post("/studio/check", { prompt: text, model: model.value, characters: characters });
        const result = await response.json();
        if (mine !== seq) return;
        // After a rights block, the block is the whole answer: no drawing advice with it.
        showFit(result.allowed === false ? null : result.fit);
        const hopeless = result.fit && result.fit.drawable === false;
        const banner = document.getElementById("form-error");
        if (banner && text !== submitted) banner.hidden = true; // it was about another prompt
        if (result.allowed === true) {
          const names = (result.attributions || []).map((a) => a.name + (a.attribution ? " (" + a.attribution + ")" : ""));
          if (names.length) {
            box.className = "rights-check ok";
            box.textContent = "Allowed, with licensed use of: " + names.join(", ");
          } else if (hopeless) {
            // No green all-clear beside "cannot draw": the prompt as a whole is not fine.
            box.className = "rights-check info";
            box.textContent = "No rights issue found.";
          } else {
            box.className = "rights-check ok";
            box.textContent = "Allowed by the rights check.";
          }
        } else if (result.allowed === false) {
          if (banner && banner.classList.contains("blocked") && !banner.hidden) {
            box.textContent = ""; box.className = "rights-check"; // the banner says it once
          } else {
            box.className = "rights-check blocked";
            box.textContent = "Blocked: " + result.message;
          }
        } else {
          box.className = "rights-check info";
          box.textContent = result.message || (result.error && result.error.message) || "";
        }
      } catch (err) {
        if (mine === seq) { box.textContent = ""; box.className = "rights-check"; lastKey = null; }
      } finally {
        if (mine === seq) box.removeAttribute("aria-busy");
      }
    }
    // What the chosen model can draw of the prompt (models that know their vocabulary)
    // A prompt it cannot draw at all needs a second, knowing click ("Create anyway"), as the
    // CLI needs --anyway; the server asks again when this script did not run.
    function showFit(fit) {
      const fitBox = document.getElementById("prompt-fit");
      if (!fitBox) return;
      const hopeless = !!fit && fit.drawable === false;
      const button = form.querySelector("#create-submit");
      const anyway = form.querySelector("#anyway");
      if (button) button.textContent = hopeless ? "Create anyway" : "Create video";
      if (anyway) anyway.value = hopeless ? "true" : "";
      if (!fit) { fitBox.textContent = ""; fitBox.className = "prompt-fit"; return; }
      fitBox.className = fit.warning ? "prompt-fit warn" : "prompt-fit";
      fitBox.textContent = fit.warning || (fit.will_draw ? "Will draw: " + fit.will_draw : "");
      linkDocs(fitBox);
    }
    // "docs/models.md" is a file in the source; link the page this server serves instead.
    function linkDocs(node) {
      const text = node.textContent;
      const at = text.indexOf("docs/models.md");
      if (at < 0) return;
      const link = document.createElement("a");
      link.href = "/help/models";
      link.textContent = "installing models";
      node.textContent = text.slice(0, at);
      node.append(link, text.slice(at + "docs/models.md".length));
    }
    prompt.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 500);
    });
    prompt.addEventListener("blur", function (event) {
      // Leaving for the submit button: the server screens it anyway, and a re-check now
      // could move the button between mousedown and mouseup.
      if (event.relatedTarget && event.relatedTarget.type === "submit") return;
      clearTimeout(timer);
      check();
    });
    form.querySelectorAll('input[name="characters"]').forEach(function (box) {
      box.addEventListener("change", check);
    });
    if (prompt.value.trim()) check();
    form.addEventListener("submit", function () {
      const button = form.querySelector("#create-submit");
      setTimeout(() => { button.disabled = true; button.textContent = "Queuing…"; }, 0);
    });
  }

  // -- provenance panel (verified after the page loads) -------------------------------------
  async function provenance() {
    const panel = document.getElementById("provenance");
    if (!panel || !document.getElementById("player")) return;
    try {
      const response = await fetch(panel.dataset.src, { credentials: "same-origin" });
      panel.innerHTML = response.ok ? await response.text() : '<p class="alert">Could not verify this video.</p>';
    } catch (err) {
      panel.innerHTML = '<p class="alert">Could not verify this video.</p>';
    }
  }

  // -- likes ----------------------------------------------------------------------------------
  document.addEventListener("submit", async function (event) {
    const form = event.target.closest("form[data-like]");
    if (!form || event.defaultPrevented) return;
    event.preventDefault();
    const response = await post("/studio/videos/" + form.dataset.like + "/like");
    if (!response.ok) { form.submit(); return; }
    const result = await response.json();
    const button = form.querySelector("button");
    button.setAttribute("aria-pressed", String(result.liked));
    button.querySelector(".like-count").textContent = result.likes;
    const label = button.querySelector(".like-label");
    if (label) label.textContent = result.liked ? "Liked" : "Like";
    if (button.hasAttribute("aria-label")) button.setAttribute("aria-label", (result.liked ? "Unlike" : "Like") + " (" + result.likes + " likes)");
  });

  // -- feed: autoplay in view, spritesheet hover-scrub, infinite scroll ------------------------
  const calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const players = "IntersectionObserver" in window && !calm ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      const video = entry.target.querySelector("video");
      if (!video) return;
      if (entry.isIntersecting) {
        if (!video.src) video.src = video.dataset.src;
        video.play().then(() => video.classList.add("playing")).catch(() => {});
      } else {
        video.pause();
      }
    });
  }, { threshold: 0.6 }) : null;

  function enhanceCards(root) {
    root.querySelectorAll(".card-media").forEach(function (media) {
      if (media.dataset.ready) return;
      media.dataset.ready = "1";
      if (players) players.observe(media);
      const scrub = media.querySelector(".scrub");
      const count = parseInt(media.dataset.count, 10) || 16;
      const cols = Math.ceil(Math.sqrt(count));
      const rows = Math.ceil(count / cols);
      media.addEventListener("mousemove", function (event) {
        const box = media.getBoundingClientRect();
        const index = Math.min(count - 1, Math.floor(((event.clientX - box.left) / box.width) * count));
        if (!scrub.style.backgroundImage) {
          scrub.style.backgroundImage = "url(" + media.dataset.sprite + ")";
          scrub.style.backgroundSize = cols * 100 + "% " + rows * 100 + "%";
        }
        const x = cols > 1 ? ((index % cols) / (cols - 1)) * 100 : 0;
        const y = rows > 1 ? (Math.floor(index / cols) / (rows - 1)) * 100 : 0;
        scrub.style.backgroundPosition = x + "% " + y + "%";
        media.classList.add("scrubbing");
      });
      media.addEventListener("mouseleave", () => media.classList.remove("scrubbing"));
    });
  }

  function infiniteScroll() {
    const feed = document.querySelector("[data-feed]");
    if (!feed || !("IntersectionObserver" in window)) return;
    const observer = new IntersectionObserver(async function (entries) {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        const more = entry.target;
        observer.unobserve(more);
        const response = await fetch(more.href + "&partial=1", { credentials: "same-origin" });
        if (!response.ok) continue;
        const template = document.createElement("template");
        template.innerHTML = await response.text();
        more.replaceWith(template.content);
        enhanceCards(feed);
        const next = feed.querySelector("[data-more]");
        if (next) observer.observe(next);
      }
    }, { rootMargin: "400px" });
    const first = feed.querySelector("[data-more]");
    if (first) observer.observe(first);
  }

  // -- the main menu on a phone: one row that scrolls sideways ---------------------------
  // The current page's item is brought into view, and an edge with more to scroll fades
  // out (.more-left / .more-right), so a clipped item says the menu goes on.
  function scrollingMenu() {
    const nav = document.querySelector(".top nav");
    if (!nav) return;
    const current = nav.querySelector('[aria-current="page"]');
    if (current && nav.scrollWidth > nav.clientWidth) {
      nav.scrollLeft = Math.max(0, current.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2);
    }
    const edges = function () {
      nav.classList.toggle("more-left", nav.scrollLeft > 2);
      nav.classList.toggle("more-right", nav.scrollLeft + nav.clientWidth < nav.scrollWidth - 2);
    };
    nav.addEventListener("scroll", edges, { passive: true });
    window.addEventListener("resize", edges);
    edges();
  }

  document.addEventListener("DOMContentLoaded", function () {
    scrollingMenu();
    watchProgress();
    createPage();
    provenance();
    enhanceCards(document);
    infiniteScroll();
  });
})();
