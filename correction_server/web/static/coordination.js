// Live progress: the block is fetched again every 20 s and replaced (server-rendered HTML).
(function () {
  "use strict";
  const block = document.getElementById("progress");
  if (!block || !block.dataset.refresh) return;
  async function refresh() {
    try {
      const answer = await fetch(block.dataset.refresh, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (answer.ok) block.innerHTML = await answer.text();
    } catch (e) {
      // Offline for a moment: the next round tries again.
    }
  }
  setInterval(refresh, 20000);
  block.addEventListener("massicot:refresh", refresh);
})();
