"""The menus, from one table: every action's menu, text, shortcut, icon and what it calls.
The Help menu's keyboard-shortcuts window is made from the same actions, so it cannot
drift from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QWidget


@dataclass(frozen=True)
class ActionSpec:
    """One menu entry. `slot` names what it calls, resolved by the window ("files.save");
    `menu` may name a submenu ("File/&Export")."""

    menu: str
    name: str  # the window's attribute; its object name is the camel-cased form
    text: str
    slot: str
    shortcuts: tuple[str, ...] = ()
    icon: str = ""
    on_canvas: bool = False  # acts on the canvas: only where the canvas is shown
    tip: str = ""


SEPARATOR, RECENT = "separator", "the Open Recent menu"
A = ActionSpec
ACTIONS: tuple[ActionSpec | str, ...] = (
    A("File", "open_action", "&Open Checkpoint…", "files.open_dialog", ("Open",), "open"),
    RECENT,
    SEPARATOR,
    A("File", "save_action", "&Save Checkpoint", "files.save", ("Save",), "save"),
    A("File", "save_as_action", "Save Checkpoint &As…", "files.save_as", ("Ctrl+Shift+S",)),
    SEPARATOR,
    A("File", "compare_action", "&Compare With Checkpoints…", "files.compare_dialog", (), "train",
      tip="Show checkpoint files' curves beside the runs selected in the Runs tab"),
    A("File", "clear_compare_action", "C&lear Comparisons", "runs_tab.clear_comparison"),
    A("File/&Export", "export_onnx_action", "&ONNX…", "files.export_onnx"),
    SEPARATOR,
    A("File", "revert_action", "&Revert to Bundled Model", "revert_to_bundled", (), "revert"),
    SEPARATOR,
    A("File", "quit_action", "&Quit", "close", ("Ctrl+Q",)),
    A("Edit", "undo_action", "&Undo Stroke", "panel.undo", ("Undo",), "undo", True),
    A("Edit", "clear_action", "&Clear Canvas", "panel.clear", ("Del", "Esc"), "clear", True),
    A("Edit", "paste_action", "&Paste Image", "paste_image", ("Paste",), "", True),
    A("Tools", "train_action", "&Train", "train", ("Ctrl+T",), "play",
      tip="Train a model with the Train tab's recipe"),
    A("Tools", "stop_training_action", "S&top Training", "train_tab.stop_training", (), "stop"),
    A("Tools", "more_epoch_action", "Train One More &Epoch", "train_more", ("Ctrl+Shift+T",),
      "play", tip="The run that just finished trains one more epoch"),
    SEPARATOR,
    A("Tools", "browse_samples_action", "&My Handwriting…", "handwriting.browse"),
    A("Tools", "teach_action", "&Teach It My Handwriting", "teach", (), "play"),
    A("Tools", "stop_teach_action", "&Stop Teaching", "handwriting.stop", (), "stop"),
    A("Help", "shortcuts_action", "&Keyboard Shortcuts", "show_shortcuts", ("Ctrl+/",)),
    A("Help", "guide_action", "&How to Use MNIST Desk", "show_guide", ("F1",)),
    A("Help", "inside_action", "&What the Network Sees", "show_inside_guide"),
    A("Help", "experiments_action", "&Experiments to Try", "show_experiments"),
    SEPARATOR,
    A("Help", "about_action", "&About MNIST Desk", "show_about", (), "about"),
)  # fmt: skip
MENUS = ("&File", "&Edit", "&View", "&Tools", "&Help")
APPEARANCES = (("system", "&System"), ("light", "&Light"), ("dark", "&Dark"))


def _key(text: str) -> QKeySequence:
    standard = getattr(QKeySequence.StandardKey, text, None)
    return QKeySequence(standard) if standard is not None else QKeySequence(text)


def object_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


class MenuBuilder:
    """Makes the window's menus and actions; `slot` resolves an ActionSpec's slot, and the
    canvas actions are added to every widget in `canvas_widgets` (they act only there)."""

    def __init__(
        self,
        window: QMainWindow,
        slot: Callable[[str], Callable[..., object]],
        canvas_widgets: list[QWidget],
    ) -> None:
        self.window, self.slot, self.canvas_widgets = window, slot, canvas_widgets
        bar = window.menuBar()
        self.menus = {title.replace("&", ""): bar.addMenu(title) for title in MENUS}
        self.actions: dict[str, QAction] = {}

    def build(self, recent: QMenu) -> dict[str, QAction]:
        current = self.menus["File"]
        for entry in ACTIONS:
            if entry == SEPARATOR:
                current.addSeparator()
            elif entry == RECENT:
                current.addMenu(recent)
            elif isinstance(entry, ActionSpec):
                current = self._menu_for(entry.menu)
                current.addAction(self.make(entry))
        self._add_keep_actions()
        self.actions["about_action"].setMenuRole(QAction.MenuRole.AboutRole)
        self.actions["quit_action"].setMenuRole(QAction.MenuRole.QuitRole)
        return self.actions

    def _menu_for(self, path: str) -> QMenu:
        top, _, sub = path.partition("/")
        menu = self.menus[top]
        if not sub:
            return menu
        found = menu.findChild(QMenu, sub)
        if found is None:
            found = menu.addMenu(sub)
            found.setObjectName(sub)
        return found

    def make(self, spec: ActionSpec) -> QAction:
        action = QAction(spec.text, self.window)
        action.setObjectName(object_name(spec.name))
        if spec.icon:
            action.setIcon(QIcon(f":/icons/{spec.icon}.svg"))
        action.setShortcuts([_key(s) for s in spec.shortcuts])
        if spec.tip:
            action.setToolTip(spec.tip)
            action.setStatusTip(spec.tip)
        action.triggered.connect(lambda _=False, slot=spec.slot: self.slot(slot)())
        if spec.on_canvas:
            self._on_canvas(action)
        self.actions[spec.name] = action
        return action

    def _on_canvas(self, action: QAction) -> None:
        # act on the canvas only where it is shown (Draw or Network tab), so that editing
        # keys in the training form keep their usual meaning
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        for widget in self.canvas_widgets:
            widget.addAction(action)

    def _add_keep_actions(self) -> None:
        menu = self._menu_for("Edit/&Keep Drawing As")
        keep = self.slot("panel.keep_as")
        for digit in range(10):
            action = QAction(f"&{digit}", self.window)
            action.setObjectName(f"keepAs{digit}Action")
            action.setShortcut(QKeySequence(str(digit)))
            action.setStatusTip(f"Keep the drawing as a {digit}, to teach the model your hand")
            action.triggered.connect(lambda _=False, d=digit: keep(d))
            self._on_canvas(action)
            menu.addAction(action)
            self.actions[f"keep_as_{digit}_action"] = action

    def add_tab_actions(
        self, tabs: list[tuple[QWidget, str]], show: Callable[[QWidget], None]
    ) -> list[QAction]:
        """View menu: one action per tab, Ctrl+1 onwards."""
        out = []
        for i, (tab, text) in enumerate(tabs, start=1):
            action = QAction(text, self.window)
            action.setShortcut(QKeySequence(f"Ctrl+{i}"))
            action.triggered.connect(lambda _=False, tab=tab: show(tab))
            self.menus["View"].addAction(action)
            out.append(action)
        return out

    def add_appearance(self, choose: Callable[[str], None], current: str) -> QActionGroup:
        """View > Appearance: System, Light or Dark, one of them checked."""
        self.menus["View"].addSeparator()
        menu = self.menus["View"].addMenu("&Appearance")
        menu.setObjectName("appearanceMenu")
        group = QActionGroup(self.window)
        group.setExclusive(True)
        for mode, text in APPEARANCES:
            action = QAction(text, self.window)
            action.setObjectName(f"appearance{mode.capitalize()}")
            action.setCheckable(True)
            action.setChecked(mode == current)
            action.setData(mode)
            action.triggered.connect(lambda _=False, mode=mode: choose(mode))
            group.addAction(action)
            menu.addAction(action)
        return group
