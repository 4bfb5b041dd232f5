// Dropping a file on a picker's area sets its file input, as choosing it would.

export function enableDrops(root = document) {
  for (const zone of root.querySelectorAll("[data-drop-for]")) {
    const input = document.getElementById(zone.dataset.dropFor);
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      if (!e.dataTransfer || e.dataTransfer.files.length === 0) return;
      const files = new DataTransfer();
      files.items.add(e.dataTransfer.files[0]);
      input.files = files.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
}
