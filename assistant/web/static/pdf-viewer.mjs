// The app's PDF viewer (served by assistant/web/viewer.py): PDF.js opens the cited file at
// the cited page, then its find controller looks for the quoted sentences in the text
// layer (it folds whitespace, line-end hyphens, ligatures and quote marks) and highlights
// them. No PDF JavaScript runs: the scripting sandbox is neither loaded nor vendored.
import * as pdfjsLib from "./pdfjs/build/pdf.min.mjs";

globalThis.pdfjsLib = pdfjsLib; // pdf_viewer.mjs takes the library from here
const { EventBus, PDFFindController, PDFLinkService, PDFViewer } = await import(
  "./pdfjs/web/pdf_viewer.mjs"
);

const QUOTE_SEPARATOR = "\u2026"; // between the cited sentences (assistant/qa/models.py)
const body = document.body;
const status = document.getElementById("ta-status");
const page = Number(body.dataset.page) || 1;
const quoted = (body.dataset.quote || "")
  .split(QUOTE_SEPARATOR)
  .map((s) => s.replace(/\s+/g, " ").trim())
  .filter((s) => s.length > 0);
// The quotes keep a compound's hyphen where the PDF broke the line after it
// ("privacy-enhancing", ingest/cleaning.py); PDF.js's search joins a hyphen at a line end
// before a lower-case letter ("privacyenhancing"). So each quote with a hyphen inside a word
// is also looked for with those hyphens folded: whichever the page has is highlighted.
const INNER_HYPHEN = /(?<=\p{Ll})-(?=\p{Ll})/gu;
const fragments = quoted.flatMap((s) => {
  const folded = s.replace(INNER_HYPHEN, "");
  return folded === s ? [s] : [s, folded];
});

function say(text, warn = false) {
  status.textContent = text;
  status.classList.toggle("ta-warn", warn);
  body.dataset.taState = warn ? "not-found" : "found";
}

pdfjsLib.GlobalWorkerOptions.workerSrc = new URL(
  "./pdfjs/build/pdf.worker.min.mjs",
  import.meta.url,
).href;
const container = document.getElementById("viewerContainer");
const eventBus = new EventBus();
const linkService = new PDFLinkService({ eventBus });
const findController = new PDFFindController({ eventBus, linkService });
const viewer = new PDFViewer({
  container,
  eventBus,
  linkService,
  findController,
  annotationMode: pdfjsLib.AnnotationMode.DISABLE, // no forms or links from the document
});
linkService.setViewer(viewer);

let searched = false;
eventBus.on("pagesinit", () => {
  viewer.currentScaleValue = "page-width";
  viewer.currentPageNumber = Math.min(page, viewer.pagesCount);
  if (!fragments.length) {
    say(`Page ${viewer.currentPageNumber} of ${viewer.pagesCount}.`);
    return;
  }
  searched = true;
  // The search starts at the current page, so a match on the cited page is the one shown.
  eventBus.dispatch("find", {
    source: null,
    type: "",
    query: fragments,
    caseSensitive: false,
    entireWord: false,
    highlightAll: true,
    findPrevious: false,
    matchDiacritics: false,
  });
});

eventBus.on("updatefindcontrolstate", ({ state }) => {
  if (!searched || state === 3 /* PENDING */) return;
  const onPage = findController.pageMatches[page - 1]?.length || 0;
  const pages = findController.pageMatches
    .map((matches, index) => (matches?.length ? index + 1 : 0))
    .filter(Boolean);
  if (onPage) {
    say(`Page ${page}: the quoted passage is highlighted.`);
  } else if (pages.length) {
    say(`The quoted passage was not found on page ${page}; it is highlighted on page ${pages[0]}.`, true);
  } else {
    say(`The quoted passage could not be highlighted; this is page ${page}, where it is cited.`, true);
    viewer.currentPageNumber = Math.min(page, viewer.pagesCount);
  }
});

try {
  const pdf = await pdfjsLib.getDocument({
    url: body.dataset.pdf,
    isEvalSupported: false, // the CSP allows no eval; fonts are drawn without it
    enableXfa: false,
    useSystemFonts: true, // standard fonts are not vendored: the system's stand in
  }).promise;
  viewer.setDocument(pdf);
  linkService.setDocument(pdf, null);
} catch (err) {
  say(`The PDF could not be opened (${err?.message || err}). Use "Open the file itself".`, true);
}
