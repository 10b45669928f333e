"""Python's cyclic garbage collected in the GUI thread only.

The cycle collector runs in whichever thread happens to allocate when a generation's
threshold is crossed. When that was the training thread and the garbage held a Qt widget
(a closed dialog, a menu of a window gone), PySide destroyed the widget there: the widget's
destructor took Qt's locks and waited for the GIL while the GUI thread, holding the GIL,
waited for those locks, and the app froze (seen as a hung test, a training thread stuck in
the collector inside `QMenu::~QMenu`). So automatic collection is switched off and a timer
in the GUI thread collects instead, generation by generation as the automatic collector
would, once a second. pyqtgraph offers the same idea (util.garbage_collector).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """Installed once per application (gui.app.configure_application)."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.collect)
        self.timer.start()

    def collect(self) -> int:
        """Collect the generations whose counts passed their thresholds; how many objects
        were unreachable."""
        counts = gc.get_count()
        found = 0
        for generation in range(3):
            if counts[generation] <= self.thresholds[generation]:
                break
            found += gc.collect(generation)
        return found
