// faceswap studio: the pages, shown one at a time by the address's #fragment.

import { enableDrops } from "./drop.js";
import { setUpLive } from "./live.js";
import { setUpPicture } from "./picture.js";
import { refreshStatus, setUpStatus } from "./status.js";
import { refresh as refreshJobs, setUpVideo } from "./video.js";

const PAGES = ["picture", "video", "live", "status"];

function show() {
  const wanted = location.hash.slice(1);
  const page = PAGES.includes(wanted) ? wanted : PAGES[0];
  for (const name of PAGES) document.getElementById(name).hidden = name !== page;
  for (const link of document.querySelectorAll("nav a[data-page]")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (page === "video") refreshJobs();
  if (page === "status") refreshStatus();
}

enableDrops();
setUpPicture();
setUpVideo();
setUpStatus();
setUpLive();
window.addEventListener("hashchange", show);
show();
// The swappers this server runs fill the pickers on every page.
refreshStatus();
