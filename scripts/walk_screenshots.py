"""A new user's walk through every screen, as screenshots (run it under Xvfb):

    xvfb-run -s "-screen 0 1600x1000x24" python scripts/walk_screenshots.py OUT --size 1600x1000
    python scripts/walk_screenshots.py OUT --size 800x600 --appearance dark

It draws with real mouse events, trains for a few seconds on MNIST (found as the app finds
it), opens each tab, dialog and help page, and saves one PNG per view into OUT, named by
what it shows. Settings, kept digits and runs go to temporary folders. Steps whose feature
the app does not have are skipped, so the same walk serves before and after a change.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.drawing import catmull_rom, stroke  # noqa: E402

SEVEN = [(0.3, 0.22), (0.7, 0.22), (0.45, 0.82)]
THREE = [(0.3, 0.25), (0.45, 0.17), (0.6, 0.18), (0.67, 0.28), (0.6, 0.42), (0.45, 0.48),
         (0.62, 0.54), (0.69, 0.67), (0.6, 0.8), (0.43, 0.83), (0.3, 0.76)]  # fmt: skip
LETTER_A = [[(0.3, 0.8), (0.5, 0.2), (0.7, 0.8)], [(0.38, 0.58), (0.62, 0.58)]]


def wait(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


class Walk:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.taken: list[str] = []

    def shoot(self, widget: QWidget, name: str) -> None:
        wait(0.35)
        pixmap = widget.screen().grabWindow(widget.winId())
        path = self.out / f"{name}.png"
        pixmap.save(str(path))
        self.taken.append(path.name)
        print(f"wrote {path} ({pixmap.width()}x{pixmap.height()})")

    def dialog(self, open_it: Callable[[], object], name: str) -> None:
        """Open a modal dialog, shoot it, close it."""

        def grab() -> None:
            modal = QApplication.activeModalWidget()
            if modal is not None:
                self.shoot(modal, name)
                modal.close()

        QTimer.singleShot(600, grab)
        open_it()


def use_temporary_folders() -> None:
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat,
        QSettings.Scope.UserScope,
        tempfile.mkdtemp(prefix="mnist-desk-settings-"),
    )
    import mnist_desk.core.places as places
    import mnist_desk.core.samples as samples

    user = Path(tempfile.mkdtemp(prefix="mnist-desk-user-"))
    samples.user_data_dir = lambda: user  # type: ignore[assignment]
    places.user_data_dir = lambda: user  # type: ignore[assignment]
    os.environ.setdefault("MNIST_DESK_RUNS", str(user / "runs"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", default="1600x1000")
    parser.add_argument("--appearance", default="", help="light or dark, where the app has it")
    parser.add_argument("--train-seconds", type=float, default=8.0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    use_temporary_folders()
    from mnist_desk.gui import create_window

    window = create_window()
    if args.appearance and hasattr(window, "set_appearance"):
        window.set_appearance(args.appearance)
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()
    walk = Walk(args.out)
    wait(1.0)
    walk.shoot(window, "01-start")
    draw_steps(window, walk)
    network_steps(window, walk)
    explorer_steps(window, walk)
    train_steps(window, walk, args.train_seconds)
    runs_steps(window, walk)
    help_steps(window, walk)
    window.session.dirty = False
    window.close()
    print(f"{len(walk.taken)} screenshots in {args.out}")
    return 0


def draw_steps(window, walk: Walk) -> None:  # type: ignore[no-untyped-def]
    tab = window.draw_tab
    window.tabs.setCurrentWidget(tab)
    stroke(tab.canvas, catmull_rom(THREE, 12), steps=2)
    tab.predict_now()
    walk.shoot(window, "02-draw-three")
    if hasattr(window, "panel"):
        window.panel.keep_as(3)
        walk.shoot(window, "03-draw-kept")
        window.panel.keep_as(3)
        walk.shoot(window, "04-draw-kept-twice")
        tab.canvas.clear()
        stroke(tab.canvas, SEVEN)
        tab.predict_now()
        walk.shoot(window, "05-draw-after-keep-message")
    tab.canvas.clear()
    for part in LETTER_A:
        stroke(tab.canvas, part)
    tab.predict_now()
    walk.shoot(window, "06-draw-letter-unsure")
    tab.canvas.clear()
    stroke(tab.canvas, catmull_rom(THREE, 12), steps=2)
    tab.saliency_toggle.setChecked(True)
    tab.predict_now()
    walk.shoot(window, "07-draw-saliency")
    tab.saliency_toggle.setChecked(False)


def network_steps(window, walk: Walk) -> None:  # type: ignore[no-untyped-def]
    window.tabs.setCurrentWidget(window.network_tab)
    wait(0.5)
    walk.shoot(window, "08-network")


def explorer_steps(window, walk: Walk) -> None:  # type: ignore[no-untyped-def]
    explorer = window.explorer_tab
    window.tabs.setCurrentWidget(explorer)
    for _ in range(100):
        if explorer.result is not None:
            break
        wait(0.2)
    walk.shoot(window, "09-explorer")
    explorer.matrix.cell_clicked.emit(7, 7)
    wait(0.3)
    walk.shoot(window, "10-explorer-diagonal-cell")
    explorer.matrix.cell_clicked.emit(4, 9)
    wait(0.3)
    items = explorer.gallery.count()
    if items:
        explorer.gallery.itemClicked.emit(explorer.gallery.item(0))
        window.draw_tab.predict_now()
        walk.shoot(window, "11-explorer-image-on-draw-tab")


def train_steps(window, walk: Walk, seconds: float) -> None:  # type: ignore[no-untyped-def]
    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    walk.shoot(window, "12-train-before-run")
    tab.form.set_value("epochs", 2) if hasattr(tab.form, "set_value") else None
    walk.shoot(window, "13-train-epochs-changed")
    tab.views.setCurrentWidget(tab.augment_preview)
    wait(1.5)
    walk.shoot(window, "14-train-augmentation-preview")
    tab.views.setCurrentWidget(tab.curves)
    tab.start_training()
    wait(2.0)
    walk.shoot(window, "15-train-early")
    wait(seconds)
    walk.shoot(window, "16-train-running")
    window.tabs.setCurrentWidget(window.draw_tab)
    window.draw_tab.predict_now()
    walk.shoot(window, "17-draw-while-training")
    tab.stop_training()
    for _ in range(100):
        if not tab.is_running():
            break
        wait(0.2)
    window.tabs.setCurrentWidget(tab)
    walk.shoot(window, "18-train-stopped")


def runs_steps(window, walk: Walk) -> None:  # type: ignore[no-untyped-def]
    runs = getattr(window, "runs_tab", None)
    if runs is None:
        return
    window.tabs.setCurrentWidget(runs)
    runs.select([r.id for r in runs.runs][-3:])
    walk.shoot(window, "19-runs")


def help_steps(window, walk: Walk) -> None:  # type: ignore[no-untyped-def]
    walk.dialog(window.show_about, "20-about")
    for name in ("show_shortcuts", "show_guide", "show_inside_guide"):
        if hasattr(window, name):
            walk.dialog(getattr(window, name), f"21-help-{name.removeprefix('show_')}")
    walk.dialog(lambda: QMessageBox.information(window, "A dialog", "Buttons."), "22-dialog")
    _ = QDialog


if __name__ == "__main__":
    sys.exit(main())
