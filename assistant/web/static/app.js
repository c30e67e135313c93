// Run once on page load (passed to Gradio as `launch(js=...)`): the [n] citation links of
// an answer bring their source card into view and highlight it; "Sources" links on narrow
// screens go to the panel; an example question, once clicked, hands focus to the box.
() => {
  if (window.taCitations) return;
  window.taCitations = true;
  const show = (target) => {
    document.querySelectorAll(".ta-card-active").forEach((c) => c.classList.remove("ta-card-active"));
    if (target.classList.contains("ta-card")) target.classList.add("ta-card-active");
    target.scrollIntoView({ block: "start" });
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true }); // keyboard users continue from the card
  };
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest("a[href^='#ta-source-'], a[href='#sources']");
      if (link) {
        const id = link.getAttribute("href").slice(1);
        const target = document.getElementById(id);
        if (!target) return; // the panel shows another answer's sources
        event.preventDefault();
        event.stopPropagation();
        show(target);
        return;
      }
      if (event.target.closest("#ta-examples button, #ta-examples tr, #ta-examples td")) {
        const box = document.querySelector("#ta-question textarea");
        if (box) setTimeout(() => box.focus(), 0);
      }
    },
    true,
  );
}
