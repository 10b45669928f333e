"""Screenshots of the app for docs/, taken from a real X server (run it under Xvfb):

    xvfb-run -s "-screen 0 1600x1000x24" python scripts/take_screenshots.py docs/
    QT_SCALE_FACTOR=2 xvfb-run -s "-screen 0 2600x1800x24" \
        python scripts/take_screenshots.py /tmp/hidpi

It draws digits with real mouse events, starts a training run on MNIST (found as the app
finds it) and captures the screen while it runs. The Runs tab shows the library the app
finds (MNIST_DESK_RUNS chooses one), its last three runs overlaid.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_desk.gui import create_window  # noqa: E402
from tests.drawing import catmull_rom, stroke  # noqa: E402

# a hand-drawn-looking 3 (unit coordinates of the canvas)
THREE = [(0.3, 0.25), (0.45, 0.17), (0.6, 0.18), (0.67, 0.28), (0.6, 0.42), (0.45, 0.48),
         (0.62, 0.54), (0.69, 0.67), (0.6, 0.8), (0.43, 0.83), (0.3, 0.76)]  # fmt: skip


def wait(seconds: float) -> None:
    """Run the real event loop for a while (a processEvents loop would starve painting)."""
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def shoot(window, path: Path) -> None:  # type: ignore[no-untyped-def]
    wait(0.3)
    screen = window.screen()
    pixmap = screen.grabWindow(window.winId())
    pixmap.save(str(path))
    print(f"wrote {path} ({pixmap.width()}x{pixmap.height()})")


def use_fresh_settings() -> None:
    """A temporary settings folder: neither read nor overwrite the user's own."""
    folder = tempfile.mkdtemp(prefix="mnist-desk-settings-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--epochs-wait", type=float, default=14.0, help="seconds of training")
    parser.add_argument("--compare", nargs="*", default=[], help="checkpoints to compare")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    use_fresh_settings()
    import mnist_desk.core.samples as samples

    user_data = Path(tempfile.mkdtemp(prefix="mnist-desk-user-"))
    samples.user_data_dir = lambda: user_data  # the screenshots keep no real user's digits
    window = create_window()
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()
    wait(0.5)
    shoot(window, args.out / "start.png")

    stroke(window.draw_tab.canvas, catmull_rom(THREE, 12), steps=2)
    window.draw_tab.predict_now()
    shoot(window, args.out / "draw-tab.png")
    window.draw_tab.saliency_toggle.setChecked(True)
    shoot(window, args.out / "draw-saliency.png")
    window.draw_tab.saliency_toggle.setChecked(False)

    window.tabs.setCurrentWidget(window.network_tab)
    wait(0.5)
    shoot(window, args.out / "network-tab.png")

    explorer = window.explorer_tab
    window.tabs.setCurrentWidget(explorer)
    while explorer.result is None:
        wait(0.2)
    wait(0.3)
    cell = explorer.matrix.cell_rect(4, 9).center().toPoint()
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.mouseClick(explorer.matrix, Qt.MouseButton.LeftButton, pos=cell)
    shoot(window, args.out / "explorer-tab.png")

    for i, digit in enumerate((1, 1, 7, 7, 4)):
        window.draw_tab.canvas.clear()
        x = 0.4 + 0.03 * i
        one = catmull_rom([(x - 0.15, 0.3), (x, 0.15), (x + 0.02, 0.85)], 12)
        stroke(window.draw_tab.canvas, one, steps=2)
        window.panel.keep_as(digit)
    from mnist_desk.gui.samples_dialog import SamplesDialog

    dialog = SamplesDialog(window.handwriting.store, window)
    dialog.show()
    wait(0.4)
    pixmap = dialog.screen().grabWindow(dialog.winId())
    pixmap.save(str(args.out / "my-handwriting.png"))
    dialog.close()

    window.tabs.setCurrentWidget(window.train_tab)
    window.train_tab.views.setCurrentWidget(window.train_tab.augment_preview)
    window.train_tab.form.apply_preset("best")
    wait(1.5)
    shoot(window, args.out / "augmentation-preview.png")
    window.train_tab.views.setCurrentWidget(window.train_tab.curves)
    runs = window.runs_tab
    window.tabs.setCurrentWidget(runs)
    runs.select([r.id for r in runs.runs if r.status != "damaged"][-3:])
    for path in args.compare:
        from mnist_desk.core.checkpoint import load_checkpoint

        runs.add_file_to_comparison(load_checkpoint(path))
    wait(0.5)
    shoot(window, args.out / "runs-tab.png")
    runs.clear_comparison()

    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    tab.form.apply_preset("best")
    tab.start_training()
    wait(args.epochs_wait)
    shoot(window, args.out / "train-tab.png")
    window.tabs.setCurrentWidget(window.draw_tab)
    window.draw_tab.predict_now()
    shoot(window, args.out / "draw-while-training.png")
    tab.shutdown()
    wait(1.0)
    window.session.dirty = False
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
