"""The Help menu's windows: every keyboard shortcut (made from the window's own actions),
a short guide to the app, and a page on what the network sees, written for a learner."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.predictor import UNSURE_BELOW

MOUSE = [
    ("Draw", "Left button on the canvas"),
    ("Erase", "Right button on the canvas"),
    ("Read an image", "Drop an image file on the canvas"),
    ("Open a test image on the Draw tab", "Click it in the Explore tab's gallery"),
    ("Open a run", "Double-click it in the Runs tab"),
]


def _keys(action: QAction) -> str:
    keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
    return " or ".join(k for k in keys if k)


def _walk(menu: QMenu, prefix: str) -> Iterator[tuple[str, QAction]]:
    """Every action of a menu and its submenus, with its path: "Edit > Clear Canvas"."""
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu):
            yield from _walk(sub, f"{prefix}{action.text()} > ")
        elif action.text() and not action.isSeparator():
            yield f"{prefix}{action.text()}".replace("&", ""), action


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str]]:
    """(menu path, keys) for every menu action with a shortcut, in the menus' order; a
    submenu whose actions are the ten digit keys is one row."""
    rows: list[tuple[str, str]] = []
    for top in window.menuBar().actions():
        menu = top.menu()
        if not isinstance(menu, QMenu):
            continue
        for path, action in _walk(menu, f"{top.text()} > "):
            keys = _keys(action)
            if not keys:
                continue
            head, _, last = path.rpartition(" > ")
            if keys == last and last.isdigit():  # Keep Drawing As > 0 ... 9
                if rows and rows[-1][0] == f"{head} > 0 … 9":
                    continue
                rows.append((f"{head} > 0 … 9", "0 … 9"))
                continue
            rows.append((path, keys))
    return rows


def shortcuts_dialog(window: QMainWindow) -> QDialog:
    dialog = QDialog(window)
    dialog.setObjectName("shortcutsDialog")
    dialog.setWindowTitle("Keyboard Shortcuts")
    rows = shortcut_rows(window) + [(what, how) for what, how in MOUSE]
    table = QTableWidget(len(rows), 2)
    table.setObjectName("shortcutsTable")
    table.setHorizontalHeaderLabels(["What", "Keys (or mouse)"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    for row, (what, keys) in enumerate(rows):
        table.setItem(row, 0, QTableWidgetItem(what))
        table.setItem(row, 1, QTableWidgetItem(keys))
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    note = QLabel(
        "Keys that act on the canvas (undo, clear, paste, the digits that keep a drawing) "
        "work on the Draw and Network tabs, where the canvas is."
    )
    note.setWordWrap(True)
    return _dialog_with(dialog, [note, table], (560, 560))


def page_dialog(window: QWidget, title: str, html: str, name: str) -> QDialog:
    dialog = QDialog(window)
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    browser = QTextBrowser()
    browser.setObjectName(f"{name}Text")
    browser.setOpenExternalLinks(False)
    browser.setHtml(html)
    return _dialog_with(dialog, [browser], (640, 620))


def _dialog_with(dialog: QDialog, widgets: list[QWidget], size: tuple[int, int]) -> QDialog:
    layout = QVBoxLayout(dialog)
    for widget in widgets:
        layout.addWidget(widget)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    screen = dialog.screen().availableGeometry() if dialog.screen() else None
    width, height = size
    if screen is not None:
        width, height = min(width, screen.width() - 40), min(height, screen.height() - 60)
    dialog.resize(width, height)
    dialog.setWindowFlag(Qt.WindowType.WindowContextHelpButtonHint, False)
    return dialog


GUIDE = """
<h2>How to use MNIST Desk</h2>
<p>MNIST Desk is a small convolutional network (a CNN) that reads handwritten digits, and
a workbench to train it, look inside it and test it.</p>
<h3>1. Draw a digit</h3>
<p>On the <b>Draw</b> tab, write a digit with the left mouse button; the right button
erases. The network reads while you draw: the big digit is its answer, the bars are its
ten probabilities, and <i>What it sees</i> is the 28×28 picture it really gets (your
drawing cropped, scaled and centred the way MNIST's digits were). Below {unsure} it says it is
<i>unsure</i>: that is how it says “maybe this is not a digit”. Letters, symbols and
scribbles mostly land there, digits seldom.</p>
<p><b>Undo</b> (Ctrl+Z) takes back a stroke, <b>Clear</b> (Delete or Esc) empties the
canvas. You can also drop or paste (Ctrl+V) an image of a digit.</p>
<h3>2. Teach it your handwriting</h3>
<p>When it reads you wrong, press the right digit's key (or a button under the canvas) to
keep the drawing. With a few kept, <b>Tools › Teach It My Handwriting</b> fine-tunes the
model on them, mixed with MNIST so that it does not forget, and reports what it gained on
your drawings it did not train on, and what it kept on MNIST's test set.</p>
<h3>3. Look inside</h3>
<p>The <b>Network</b> tab lists the layers and shows, for your drawing, the maps every
convolution hands on to the next layer, and a saliency map of the pixels that mattered.
The <b>Explore</b> tab runs the model on MNIST's 10,000 test images: click a cell of the
confusion matrix to see its images, and an image to read it on the Draw tab.</p>
<h3>4. Train your own</h3>
<p>On the <b>Train</b> tab, pick a recipe (<i>Seed</i> is the notebook's, <i>Best</i> the
project's), change what you like (every setting's tooltip says what it does) and press
<b>Train</b> (Ctrl+T). Loss and accuracy stream in batch by batch; the Draw tab reads
with the latest finished epoch, so you can watch the network learn your drawing.</p>
<h3>5. Every run is kept</h3>
<p>The <b>Runs</b> tab lists every training run, from the app and from the command line:
select several to compare their curves, double-click one to make it the current model,
pin the ones you want to keep for good.</p>
<p>All the shortcuts are in <b>Help › Keyboard Shortcuts</b>.</p>
"""

INSIDE = """
<h2>What the network sees</h2>
<h3>The input: 28×28 numbers</h3>
<p>The network never sees your strokes. It sees 784 numbers between 0 (black) and 1
(white): your drawing made to look like an MNIST digit. MNIST's digits were written on
paper, scanned, fitted into a 20×20 box keeping their proportions, and placed in a 28×28
field so that their centre of mass sits in the middle. Your drawing goes through the same
steps, with the pen width MNIST's writers used for a digit of that size. This matters:
a network only knows the kind of pictures it was trained on.</p>
<h3>Convolutions: small detectors slid over the picture</h3>
<p>A 3×3 convolution is a tiny pattern of 9 weights (plus a bias) slid over every
position of its input; where the input looks like the pattern, the output is large. Each
<i>map</i> on the Network tab is one such detector's answer at every position. The first
layer's detectors find edges and strokes; later ones combine them into curves, corners
and loops. A <b>ReLU</b> then keeps only the positive answers (that is why those maps are
grey: black is 0), and <b>max pooling</b> halves the size, keeping the strongest answer
of each 2×2 block, so that a stroke a pixel to the side still counts.</p>
<p>A <b>1×1 convolution</b> looks at one position only, but across all the maps there:
it mixes channels, making new maps from weighted sums of the old ones. It is cheap, and
it is how the network combines what different detectors found at the same place.</p>
<h3>The end: ten numbers</h3>
<p>The last layers turn the maps into ten scores, one per digit, and a <b>softmax</b>
turns those into probabilities that add up to 1. The digit with the highest probability
is the answer. A high probability is not a proof: a network shown only digits gives a
letter ten probabilities too, often one of them high. So the bundled network was also
shown letters, symbols and scribbles with the answer “none of the ten, equally”: it
learned to spread its belief for drawings that are no digit, and the app says “unsure”
when no digit reaches {unsure}.</p>
<h3>Saliency: which pixels mattered</h3>
<p>Saliency asks: if this pixel were a little brighter or darker, how much would the
winning digit's probability change? Bright (yellow) pixels pull the reading most. It is
the gradient of the answer with respect to the input, the same gradients training uses,
but taken for the pixels instead of the weights.</p>
<h3>Training: learning the weights</h3>
<p>Training shows the network batches of labelled digits. For each, the <b>loss</b>
measures how wrong the probabilities were; backpropagation finds how each weight should
move to lower it, and the optimiser moves them a little (the <b>learning rate</b> says
how far). One pass over the 60,000 training images is an <b>epoch</b>. Accuracy on the
10,000 <b>test</b> images, which training never sees, says how well it learned to read
digits rather than to remember the ones it saw. <b>Augmentation</b> (small random
rotations, shifts, zooms) shows it slightly different digits every epoch, so that it
learns what a 7 is rather than what these 7s look like.</p>
"""
_UNSURE = f"{UNSURE_BELOW:.0%}"
GUIDE = GUIDE.replace("{unsure}", _UNSURE)
INSIDE = INSIDE.replace("{unsure}", _UNSURE)
