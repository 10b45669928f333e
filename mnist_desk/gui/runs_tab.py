"""The Runs tab: every training run of the library (core.runs), from the app and the
command line alike, in a sortable table; several selected are overlaid in one chart (with
any checkpoint files added from elsewhere); a run opens as the current model; runs are
renamed, noted, pinned, deleted, revealed in the file manager and exported as CSV."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.runs import Limits, Run, RunLibrary, batch_curve
from mnist_desk.core.text import plural
from mnist_desk.gui import dialogs
from mnist_desk.gui.curves import TrainingCurves
from mnist_desk.gui.workspace import Workspace

COLUMNS = ["", "Name", "Started", "Preset", "Parameters", "Epochs", "Status", "Test acc",
           "Best test acc", "Duration", "Device"]  # fmt: skip
NAME = 1  # the column of the runs' names
NAME_CHARS = 16  # the least of a name the table shows; the rest is in its tooltip
POLL_MS = 3000  # runs from the command line appear while the tab is shown
ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class _Item(QTableWidgetItem):
    """A cell that sorts by its value, not by its text ("9.5 s" before "10 s")."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is None or theirs is None:
            return super().__lt__(other)
        return bool(mine < theirs)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def reference_label(ckpt: Checkpoint) -> str:
    """A compared run's name with the settings that tell runs apart."""
    t = ckpt.train_config
    if t is None:
        return ckpt.name
    acc = f", test {ckpt.test_acc:.2f}%" if ckpt.test_acc is not None else ""
    return (
        f"{ckpt.name} ({ckpt.model_config.arch}, {t.optimizer} lr {t.lr:g}, "
        f"batch {t.batch_size}, {plural(len(ckpt.history) or t.epochs, 'epoch')}{acc})"
    )


def run_label(run: Run) -> str:
    """A run's name with what tells it apart, for legends."""
    acc = f", test {run.test_acc:.2f}%" if run.test_acc is not None else ""
    return f"{run.name or run.id} ({plural(run.epochs_done, 'epoch')}{acc})"


class RunsTab(QWidget):
    open_requested = Signal(str)  # a run's id: make its model the current one
    message = Signal(str)  # for the status bar

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsTab")
        self.workspace = workspace
        self.runs: list[Run] = []
        self._files: list[Checkpoint] = []  # checkpoint files added to the comparison
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        workspace.runs_changed.connect(self._on_runs_changed)

    @property
    def library(self) -> RunLibrary:
        return self.workspace.runs

    # ---- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runsTable")
        self.table.setAccessibleName("Training runs")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)  # a long name ends in "…" on its row; whole in its tooltip
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # the name takes the room the other columns leave, but never less than a readable
        # width (Stretch would squeeze it to "lam" in a narrow window): the table scrolls
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        header.sectionResized.connect(self._on_section_resized)
        self.table.viewport().installEventFilter(self)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.chart = TrainingCurves(show_live=False)
        self.chart.setObjectName("runsChart")
        self.summary = QLabel()
        self.summary.setObjectName("runsSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("runsSplitter")
        # what the empty chart is for, until a run is chosen
        self.chart_hint = QLabel()
        self.chart_hint.setObjectName("runsChartHint")
        self.chart_hint.setWordWrap(True)
        self.chart_hint.setStyleSheet("color: palette(mid);")  # a quiet note, as on the Draw tab
        chart_box = QWidget()
        box = QVBoxLayout(chart_box)
        box.setContentsMargins(0, 4, 0, 0)
        box.addWidget(self.chart_hint)
        box.addWidget(self.chart, 1)
        splitter.addWidget(self.table)
        splitter.addWidget(chart_box)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_buttons())
        layout.addWidget(splitter, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addLayout(self._build_limits())
        layout.addLayout(bottom)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_names()
        return super().eventFilter(watched, event)

    def _on_section_resized(self, column: int, _old: int, _new: int) -> None:
        if column != NAME:  # another column fitted to new contents
            self._fit_names()

    def _fit_names(self) -> None:
        header = self.table.horizontalHeader()
        others = sum(header.sectionSize(c) for c in range(header.count()) if c != NAME)
        readable = max(
            header.sectionSizeFromContents(NAME).width(),
            self.table.fontMetrics().horizontalAdvance("x" * NAME_CHARS),
        )
        width = max(readable, self.table.viewport().width() - others)
        if header.sectionSize(NAME) != width:
            header.resizeSection(NAME, width)

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        specs = [
            ("open", "Open", "open", "Make the selected run's model the current one"),
            ("rename", "Rename…", "", "Give the selected run a name of your own"),
            ("note", "Note…", "", "Write a note on the selected run"),
            ("pin", "Pin", "", "Pinned runs are never removed to make room"),
            ("delete", "Delete…", "clear", "Remove the selected runs from the library"),
            ("reveal", "Show Folder", "folder", "Open the run's folder in the file manager"),
            ("export", "Export CSV…", "save", "Save the selected run's metrics per epoch"),
        ]
        self.buttons: dict[str, QPushButton] = {}
        for key, text, icon, tip in specs:
            button = QPushButton(QIcon(f":/icons/{icon}.svg") if icon else QIcon(), text)
            button.setObjectName(f"run{key.capitalize()}Button")
            button.setToolTip(tip)
            button.clicked.connect(getattr(self, f"{key}_selected"))
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        return row

    def _build_limits(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.max_runs = QSpinBox()
        self.max_runs.setObjectName("maxRuns")
        self.max_runs.setRange(1, 100_000)
        self.max_runs.setSuffix(" runs")
        self.max_gb = QSpinBox()
        self.max_gb.setObjectName("maxGigabytes")
        self.max_gb.setRange(1, 10_000)
        self.max_gb.setSuffix(" GB")
        for box in (self.max_runs, self.max_gb):
            box.setToolTip("The library keeps at most this much, removing the oldest "
                           "unpinned runs first")  # fmt: skip
            box.editingFinished.connect(self._on_limits_edited)
        row.addWidget(QLabel("Keep at most"))
        row.addWidget(self.max_runs)
        row.addWidget(QLabel("and"))
        row.addWidget(self.max_gb)
        return row

    # ---- the table ---------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: Any) -> None:
        self._timer.stop()

    def _on_runs_changed(self) -> None:
        """Read again now if shown; if not, when shown (a run in training changes its
        record every epoch, and reading a library of 150 runs took the GUI thread 0.1 s
        each time)."""
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        """Read the library again and show it, keeping the selection."""
        chosen = set(self.selected_ids())
        self.runs = self.library.runs()
        limits = self.library.limits()
        with QSignalBlocker(self.max_runs), QSignalBlocker(self.max_gb):
            self.max_runs.setValue(limits.max_runs)
            self.max_gb.setValue(max(1, round(limits.max_bytes / 2**30)))
        with QSignalBlocker(self.table):
            self.table.setSortingEnabled(False)
            self.table.setRowCount(len(self.runs))
            for row, run in enumerate(self.runs):
                self._fill_row(row, run)
            self.table.setSortingEnabled(True)
            for row in range(self.table.rowCount()):
                item = self.table.item(row, NAME)
                if item is not None and item.data(ID_ROLE) in chosen:
                    self.table.selectRow(row)
        size = sum(self.library.size(r) for r in self.runs)
        self.summary.setText(
            f"{plural(len(self.runs), 'run')}, {size / 2**20:.1f} MB in {self.library.folder}"
        )
        self._update_buttons()
        self._show_comparison()

    def _fill_row(self, row: int, run: Run) -> None:
        started = _local_time(run.started)
        values: list[tuple[str, Any]] = [
            ("★" if run.pinned else "", run.pinned),
            (run.name or run.id, (run.name or run.id).lower()),
            (started, run.started),
            (run.preset or "", run.preset or ""),
            (f"{run.params:,}", run.params),
            (f"{run.epochs_done} of {run.epochs_planned}", run.epochs_done),
            (run.status + (f": {run.problem}" if run.problem else ""), run.status),
            (_percent(run.test_acc), run.test_acc if run.test_acc is not None else -1.0),
            (_percent(run.best_test_acc), run.best_test_acc or -1.0),
            (_duration(run.seconds), run.seconds),
            (run.device, run.device),
        ]
        for col, (text, key) in enumerate(values):
            item = _Item(text)
            item.setData(SORT_ROLE, key)
            item.setData(ID_ROLE, run.id)
            if col == NAME:
                item.setToolTip("\n".join(dict.fromkeys(t for t in (text, run.id, run.note) if t)))
            self.table.setItem(row, col, item)

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        items = [self.table.item(r, NAME) for r in rows]
        return [str(i.data(ID_ROLE)) for i in items if i is not None]

    def selected_runs(self) -> list[Run]:
        chosen = self.selected_ids()
        return [r for r in self.runs if r.id in chosen]

    def select(self, run_ids: list[str]) -> None:
        self.table.clearSelection()
        for row in range(self.table.rowCount()):
            item = self.table.item(row, NAME)
            if item is not None and item.data(ID_ROLE) in run_ids:
                self.table.selectionModel().select(
                    self.table.model().index(row, 0),
                    self.table.selectionModel().SelectionFlag.Select
                    | self.table.selectionModel().SelectionFlag.Rows,
                )

    def _on_table_selection_changed(self) -> None:
        self._update_buttons()
        self._show_comparison()

    def _update_buttons(self) -> None:
        runs = self.selected_runs()
        one = len(runs) == 1
        usable = one and runs[0].checkpoint_path() is not None
        self.buttons["open"].setEnabled(usable)
        for key in ("rename", "note", "reveal", "export"):
            self.buttons[key].setEnabled(one and runs[0].status != "damaged")
        self.buttons["pin"].setEnabled(bool(runs))
        self.buttons["pin"].setText("Unpin" if runs and all(r.pinned for r in runs) else "Pin")
        self.buttons["delete"].setEnabled(bool(runs) and all(r.status != "running" for r in runs))

    # ---- comparing -----------------------------------------------------------------------
    def _show_comparison(self) -> None:
        self.chart.clear_references()
        longest = 1
        for run in self.selected_runs()[:8]:
            if run.status != "damaged":
                self.chart.add_reference(run_label(run), run.epochs, batch_curve(run.folder))
                longest = max(longest, run.epochs_done)
        for ckpt in self._files:
            self.chart.add_reference(reference_label(ckpt), ckpt.history, ckpt.batch_curve)
            longest = max(longest, len(ckpt.history))
        self.chart.set_epochs(longest)
        self.chart_hint.setText(
            "Select runs above to compare their curves here: Ctrl+click or Shift+click for "
            "several, up to 8. Dashed: each run's smoothed loss and accuracy; triangles: its "
            "test results."
            if self.runs
            else "Every run you train is kept here, with its curves and its model."
        )
        self.chart_hint.setVisible(self.chart.reference_count() == 0)

    def add_file_to_comparison(self, checkpoint: Checkpoint) -> None:
        self._files.append(checkpoint)
        self._show_comparison()

    def clear_comparison(self) -> None:
        self._files = []
        self.table.clearSelection()
        self._show_comparison()

    def comparison_count(self) -> int:
        return self.chart.reference_count()

    # ---- actions ---------------------------------------------------------------------------
    def open_selected(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 1 and runs[0].checkpoint_path() is not None:
            self.open_requested.emit(runs[0].id)

    def rename_selected(self) -> None:
        runs = self.selected_runs()
        if len(runs) != 1:
            return
        name, ok = QInputDialog.getText(self, "Rename Run", "Name:", text=runs[0].name)
        if ok and name.strip():
            self._change(runs[0], name=name.strip())

    def note_selected(self) -> None:
        runs = self.selected_runs()
        if len(runs) != 1:
            return
        note, ok = QInputDialog.getMultiLineText(self, "Note", "A note on this run:", runs[0].note)
        if ok:
            self._change(runs[0], note=note)

    def pin_selected(self) -> None:
        runs = self.selected_runs()
        pin = not all(r.pinned for r in runs)
        for run in runs:
            self._change(run, pinned=pin)

    def _change(self, run: Run, **changes: Any) -> None:
        try:
            self.library.update_user_fields(run.id, **changes)
        except (OSError, MnistDeskError) as exc:
            QMessageBox.warning(self, "Cannot change the run", str(exc))
        self.refresh()

    def delete_selected(self) -> None:
        runs = [r for r in self.selected_runs() if r.status != "running"]
        if not runs:
            return
        names = "\n".join(f"• {r.name or r.id}" for r in runs[:10])
        more = f"\n… and {len(runs) - 10} more" if len(runs) > 10 else ""
        answer = QMessageBox.question(
            self,
            "Delete Runs",
            f"Delete {len(runs)} run{'s' * (len(runs) != 1)} and their checkpoints from the "
            f"library? This cannot be undone.\n\n{names}{more}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        for run in runs:
            try:
                self.library.delete(run.id)
            except MnistDeskError as exc:
                QMessageBox.warning(self, "Cannot delete the run", str(exc))
        self.refresh()

    def reveal_selected(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 1:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(runs[0].folder)))

    def export_selected(self) -> None:
        runs = self.selected_runs()
        if len(runs) != 1:
            return
        suggested = str(Path.home() / f"{runs[0].id}.csv")
        path = dialogs.get_save_file_name(self, "Export Metrics", suggested, "CSV (*.csv)")
        if not path:
            return
        try:
            self.library.export_csv(runs[0].id, path)
        except (OSError, MnistDeskError) as exc:
            QMessageBox.warning(self, "Cannot export", str(exc))
            return
        self.message.emit(f"Exported {path}")

    # ---- how much the library keeps ------------------------------------------------------
    def _on_limits_edited(self) -> None:
        limits = Limits(self.max_runs.value(), self.max_gb.value() * 2**30)
        if limits != self.library.limits():
            try:
                self.library.set_limits(limits)
            except (OSError, MnistDeskError) as exc:
                QMessageBox.warning(self, "Cannot change the limits", str(exc))
                return
            self.prune()

    def prune(self) -> list[Run]:
        """Keep the library within its limits, saying what was removed."""
        limits = self.library.limits()
        removed = self.library.prune(limits)
        if removed:
            names = ", ".join(r.name or r.id for r in removed[:3])
            self.message.emit(
                f"The runs library keeps at most {plural(limits.max_runs, 'run')} and "
                f"{limits.max_bytes / 2**30:g} GB: removed the {len(removed)} oldest unpinned "
                f"({names}{' …' if len(removed) > 3 else ''})"
            )
            self.refresh()
        return removed


def _local_time(iso: str) -> str:
    try:
        return _dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}%"
