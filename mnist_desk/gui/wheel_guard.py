"""Spin boxes and combo boxes in a scrollable form take the mouse wheel only once they
have the focus: scrolling the form over them scrolls the form, it never changes a value
the user did not click (the pattern Qt's documentation gives: Qt.StrongFocus, so that the
wheel alone does not focus them, and an event filter that hands the wheel on)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QComboBox, QWidget


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Wheel
            and isinstance(watched, QWidget)
            and not watched.hasFocus()
        ):
            area = watched.parentWidget()
            while area is not None and not isinstance(area, QAbstractScrollArea):
                area = area.parentWidget()
            if area is not None:  # the scroll area the form is in scrolls instead
                QCoreApplication.sendEvent(area.viewport(), event)
            return True
        return False


def guard_wheel(root: QWidget, guard: WheelGuard) -> None:
    """Put every spin box and combo box under `root` behind `guard`."""
    for child in root.findChildren(QWidget):
        if isinstance(child, (QAbstractSpinBox, QComboBox)):
            child.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            child.installEventFilter(guard)
