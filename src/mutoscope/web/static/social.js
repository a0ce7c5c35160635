// Mutoscope studio, social parts: the phone feed (one clip per screen, the visible one plays),
// share links, and the installable app's service worker. Pages work without this file.
(function () {
  "use strict";

  // -- installable app: the service worker keeps an offline shell ----------------------------
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }

  // -- share links: the system share sheet where there is one, else copy the link -------------
  document.addEventListener("click", async function (event) {
    const button = event.target.closest("[data-share]");
    if (!button) return;
    const url = new URL(button.dataset.share, window.location.origin).href;
    const title = button.dataset.shareTitle || document.title;
    try {
      if (navigator.share) {
        await navigator.share({ title: title, url: url });
        return;
      }
      await navigator.clipboard.writeText(url);
      button.dataset.label = button.dataset.label || button.textContent;
      button.textContent = "Link copied";
      setTimeout(() => { button.textContent = button.dataset.label; }, 2000);
    } catch (err) {
      window.prompt("Copy this link", url);
    }
  });

  // -- the phone feed -----------------------------------------------------------------------
  function watchFeed() {
    const feed = document.querySelector("[data-watch-feed]");
    if (!feed) return;
    const sound = document.getElementById("watch-sound");
    // With reduced motion asked for, nothing starts by itself: clips get controls instead.
    const calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    let muted = true;

    const setMuted = function (value) {
      muted = value;
      feed.querySelectorAll("video").forEach((v) => { v.muted = muted; });
      sound.setAttribute("aria-pressed", String(!muted));
      sound.textContent = muted ? "Tap to unmute" : "Sound on";
    };
    sound.addEventListener("click", () => setMuted(!muted));

    // The clip mostly on screen plays; every other one is paused (and keeps its place).
    const visible = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        const video = entry.target.querySelector("video");
        if (!video) return;
        if (entry.isIntersecting) {
          if (!video.src) video.src = video.dataset.src;
          video.muted = muted;
          feed.querySelectorAll(".clip.active").forEach((c) => c.classList.remove("active"));
          entry.target.classList.add("active");
          if (calm) { video.controls = true; return; }
          video.play().catch(function () {
            // Autoplay refused (e.g. sound on without a gesture): retry muted.
            video.muted = true;
            video.play().catch(() => {});
          });
        } else {
          video.pause();
        }
      });
    }, { root: feed, threshold: 0.6 });

    // Tapping the clip itself toggles the sound (links and buttons keep their meaning).
    feed.addEventListener("click", function (event) {
      if (event.target.closest("a, button")) return;
      if (event.target.closest(".clip")) setMuted(!muted);
    });

    const more = new IntersectionObserver(async function (entries) {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        const link = entry.target;
        more.unobserve(link);
        const response = await fetch(link.href + "&partial=1", { credentials: "same-origin" });
        if (!response.ok) continue;
        const template = document.createElement("template");
        template.innerHTML = await response.text();
        link.replaceWith(template.content);
        observe();
      }
    }, { root: feed, rootMargin: "200% 0px" });

    function observe() {
      feed.querySelectorAll(".clip:not([data-seen])").forEach(function (clip) {
        clip.dataset.seen = "1";
        visible.observe(clip);
      });
      const next = feed.querySelector("[data-watch-more]");
      if (next) more.observe(next);
    }
    observe();
  }

  document.addEventListener("DOMContentLoaded", watchFeed);
})();
