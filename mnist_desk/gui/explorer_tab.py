"""The test-set explorer: the current model on MNIST's 10,000 test images, a confusion
matrix to click, and a gallery of the images behind each cell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mnist_desk.core.augment import to_input
from mnist_desk.core.checkpoint import Checkpoint
from mnist_desk.core.config import ModelConfig
from mnist_desk.core.errors import MnistDeskError
from mnist_desk.core.evaluation import cpu_layout, summarize
from mnist_desk.core.model import build_model, count_parameters
from mnist_desk.gui.abstain_panel import AbstainPanel
from mnist_desk.gui.background import BackgroundJob, Worker
from mnist_desk.gui.confusion_view import ConfusionMatrixView
from mnist_desk.gui.feature_map import FeatureMapPanel
from mnist_desk.gui.images import gray_image
from mnist_desk.gui.lab_panel import LabPanel
from mnist_desk.gui.mnist_cache import MnistCache
from mnist_desk.gui.robustness_panel import RobustnessPanel
from mnist_desk.gui.workspace import Workspace

GALLERY_PAGE = 400  # images shown at once; "Show more" adds as many again
CHUNK = 500


@dataclass(frozen=True)
class TestSetResult:
    images: np.ndarray  # uint8 (N, 28, 28)
    labels: np.ndarray  # int64 (N,)
    probabilities: np.ndarray  # float32 (N, 10)
    confusion: np.ndarray  # (10, 10)
    per_class: tuple[float, ...]
    accuracy: float

    @property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1)


class EvaluationWorker(Worker):
    """Runs a copy of the model over the test set in chunks, reporting progress;
    finished(TestSetResult)."""

    def __init__(
        self,
        config: ModelConfig,
        state: dict[str, torch.Tensor],
        cache: MnistCache,
        data_dir: str | None,
    ) -> None:
        super().__init__()
        self.config, self.state, self.cache, self.data_dir = config, state, cache, data_dir

    def work(self) -> TestSetResult:
        data = self.cache.get(self.data_dir, stop=self.stop_event)
        model = build_model(self.config)
        model.load_state_dict(self.state)
        model.eval()
        layout = cpu_layout(model)
        images, labels = data.test_images, data.test_labels
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(images), CHUNK):
                if self.cancelled():
                    raise MnistDeskError("the evaluation was cancelled")
                x = to_input(images[start : start + CHUNK]).contiguous(memory_format=layout)
                chunks.append(model(x).float())
                self.progress.emit(min(start + CHUNK, len(images)), len(images), "")
        logprobs = torch.cat(chunks)
        summary = summarize(logprobs, labels)
        return TestSetResult(
            images.numpy(),
            labels.numpy(),
            logprobs.exp().numpy(),
            summary.confusion,
            summary.per_class_acc,
            summary.accuracy,
        )


class ExplorerTab(QWidget):
    image_chosen = Signal(object, int)  # uint8 (28, 28), true label
    evaluated = Signal()

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explorerTab")
        self.workspace, self.session = workspace, workspace.session
        self.result: TestSetResult | None = None
        self._stale = True
        self._job: BackgroundJob[EvaluationWorker] = BackgroundJob(self, self._on_job_done)
        self._cell: tuple[int, int] | None = None
        self._build()
        self.session.model_changed.connect(self._on_session_model_changed)

    # ---- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.run_button = QPushButton(QIcon(":/icons/play.svg"), "Evaluate on the test set")
        self.run_button.setObjectName("evaluateButton")
        self.run_button.setAccessibleName("Evaluate the current model on the test set")
        self.run_button.setToolTip(
            "Run the current model on MNIST's 10,000 test images (it never trained on them)"
        )
        self.run_button.clicked.connect(self.evaluate)
        self.progress = QProgressBar()
        self.progress.setObjectName("explorerProgress")
        self.progress.setFormat("%v of %m test images")
        self.summary = QLabel("The current model has not been evaluated here yet.")
        self.summary.setObjectName("explorerSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        top = QHBoxLayout()
        top.addWidget(self.run_button)
        top.addWidget(self.progress, 1)

        self.matrix = ConfusionMatrixView()
        self.matrix.cell_clicked.connect(self._on_matrix_cell_clicked)
        self.per_class = QLabel()
        self.per_class.setObjectName("perClassAccuracy")
        self.per_class.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.matrix, 1)
        left_layout.addWidget(self.per_class)

        self.mistakes_only = QCheckBox("Mistakes only")
        self.mistakes_only.setObjectName("mistakesOnly")
        self.mistakes_only.setChecked(True)
        self.mistakes_only.setToolTip(
            "Show only the test images the model gets wrong (with no cell of the matrix "
            "chosen: a cell shows exactly its own images)"
        )
        self.mistakes_only.toggled.connect(self._fill_gallery)
        self.sort = QComboBox()
        self.sort.setObjectName("gallerySort")
        self.sort.setAccessibleName("Sort the gallery")
        for text, key in (
            ("Most confident first", "high"),
            ("Least confident first", "low"),
            ("Test-set order", "index"),
        ):
            self.sort.addItem(text, key)
        self.sort.currentIndexChanged.connect(self._fill_gallery)
        self.sort.setToolTip("The order of the images in the gallery")
        self.show_all = QPushButton("All cells")
        self.show_all.setObjectName("allCellsButton")
        self.show_all.setToolTip("Forget the chosen cell: every image (or every mistake)")
        self.show_all.clicked.connect(self._on_show_all_clicked)
        self.show_more = QPushButton(f"Show {GALLERY_PAGE} more")
        self.show_more.setObjectName("showMoreButton")
        self.show_more.setToolTip("The gallery shows images a page at a time")
        self.show_more.clicked.connect(self._on_show_more_clicked)
        self._shown = GALLERY_PAGE
        self.gallery_label = QLabel()
        self.gallery_label.setObjectName("galleryLabel")
        self.gallery = QListWidget()
        self.gallery.setObjectName("gallery")
        self.gallery.setAccessibleName("Test images of the chosen cell")
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(84, 84))
        self.gallery.setGridSize(QSize(110, 116))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setUniformItemSizes(True)
        self.gallery.itemActivated.connect(self._on_gallery_item_activated)
        self.gallery.itemClicked.connect(self._on_gallery_item_activated)
        controls = QGridLayout()
        controls.addWidget(self.mistakes_only, 0, 0)
        controls.addWidget(self.sort, 0, 1)
        controls.addWidget(self.show_all, 0, 2)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.gallery_label)
        right_layout.addWidget(self.gallery, 1)
        right_layout.addWidget(self.show_more, 0, Qt.AlignmentFlag.AlignRight)
        hint = QLabel(
            "Click a cell of the matrix to see its images; click an image to read it "
            "on the Draw tab."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        right_layout.addWidget(hint)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("explorerSplitter")
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        test_set = QWidget()
        test_layout = QVBoxLayout(test_set)
        test_layout.addLayout(top)
        test_layout.addWidget(self.summary)
        test_layout.addWidget(splitter, 1)
        self.robustness = RobustnessPanel(
            lambda: (self.session.name, self.session.checkpoint),
            self.workspace.cache,
            self.workspace.runs,
            lambda: self.workspace.data_dir,
        )
        self.pages = QTabWidget()
        self.pages.setObjectName("explorerPages")
        self.pages.setDocumentMode(True)
        self.pages.addTab(test_set, "Test set")
        self.pages.addTab(self.robustness, "Robustness")
        self.abstain = AbstainPanel(self.session)
        self.pages.addTab(self.abstain, "Answer or abstain")
        self.feature_map = FeatureMapPanel(
            lambda: self.session.checkpoint,
            self.workspace.cache,
            lambda: self.workspace.data_dir,
            lambda image, label: self.image_chosen.emit(image, label),
        )
        self.pages.addTab(self.feature_map, "Feature map")
        self.lab = LabPanel(
            self.session,
            lambda: self.workspace.cache.get(self.workspace.data_dir),
            keep_run=self._keep_edited_run,
        )
        self.pages.addTab(self.lab, "Lab")
        self.pages.setTabToolTip(4, "Switch channels off, prune, change the temperature")
        self.pages.setTabToolTip(3, "The test images on a map of what one layer makes of them")
        self.pages.setTabToolTip(2, "How often the network answers, and how often it is right")
        self.pages.setTabToolTip(
            1, "Test accuracy as the test images are damaged, model beside model"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

    # ---- evaluation --------------------------------------------------------------------
    def _keep_edited_run(self, checkpoint: Checkpoint, event: dict[str, Any]) -> str:
        """The lab's edited model, kept in the runs library beside the run it came from."""
        run_id = self.workspace.runs.add_model(
            checkpoint,
            preset="lab",
            parent=self.session.run_id,
            event=event,
            params=count_parameters(checkpoint.build_model()),
        )
        self.workspace.runs_changed.emit()
        return run_id

    def is_running(self) -> bool:
        return self._job.is_running()

    def evaluate(self) -> None:
        if self.is_running() or self.session.checkpoint is None:
            return
        state = {k: v.detach().clone() for k, v in self.session.checkpoint.model_state.items()}
        worker = EvaluationWorker(
            self.session.checkpoint.model_config,
            state,
            self.workspace.cache,
            self.workspace.data_dir,
        )
        worker.progress.connect(self._on_worker_progress)
        worker.finished.connect(self._on_worker_finished)
        worker.failed.connect(self._on_worker_failed)
        self.run_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.summary.setText(f"Evaluating {self.session.name}…")
        self._job.start(worker, name="evaluationThread")

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        self._job.cancel()
        stopped = self.robustness.shutdown(timeout_ms)
        stopped = self.feature_map.shutdown(timeout_ms) and stopped
        return self._job.wait(timeout_ms) and stopped

    def _on_worker_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _on_worker_finished(self, result: TestSetResult) -> None:
        self.result = result
        self._stale = False
        mistakes = int((result.predictions != result.labels).sum())
        self.summary.setText(
            f"{self.session.name}: {result.accuracy:.2f}% of {len(result.labels):,} test images "
            f"right, {mistakes} mistakes."
        )
        self.matrix.set_matrix(result.confusion)
        entries = [f"{d}: {a:.1f}%" for d, a in enumerate(result.per_class)]
        self.per_class.setText("Per digit: " + "  ".join(entries))  # never broken in an entry
        self._cell = None
        self._fill_gallery()
        self.abstain.set_result(result.probabilities, result.labels)
        self.evaluated.emit()

    def _on_worker_failed(self, message: str) -> None:
        self.summary.setText(f"Could not evaluate: {message}")

    def _on_job_done(self) -> None:
        self.run_button.setEnabled(True)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)

    def _on_session_model_changed(self) -> None:
        self._stale = True
        self.feature_map.refresh_layers()
        if self.result is not None:
            self.summary.setText("The model changed: evaluate again to update the matrix.")

    def showEvent(self, event: QShowEvent) -> None:
        if self._stale and not self.is_running():
            self.evaluate()

    # ---- gallery -----------------------------------------------------------------------
    def _on_matrix_cell_clicked(self, row: int, col: int) -> None:
        self._cell = (row, col)
        self._fill_gallery()

    def _on_show_all_clicked(self) -> None:
        self._cell = None
        self.matrix.select(None)
        self._fill_gallery()

    def gallery_indices(self) -> np.ndarray:
        """Test-set indices the gallery shows, in order (before the display limit)."""
        r = self.result
        if r is None:
            return np.zeros(0, np.int64)
        mask = np.ones(len(r.labels), bool)
        if self._cell is not None:
            mask &= (r.labels == self._cell[0]) & (r.predictions == self._cell[1])
        elif self.mistakes_only.isChecked():
            mask &= r.labels != r.predictions
        idx = np.flatnonzero(mask)
        key = self.sort.currentData()
        if key in ("high", "low"):
            order = np.argsort(r.confidence[idx], kind="stable")
            idx = idx[order[::-1]] if key == "high" else idx[order]
        return idx

    def _fill_gallery(self) -> None:
        self._shown = GALLERY_PAGE
        self._show_gallery()

    def _on_show_more_clicked(self) -> None:
        self._shown += GALLERY_PAGE
        self._show_gallery()

    def _show_gallery(self) -> None:
        self.gallery.clear()
        # a chosen cell shows exactly its images: "mistakes only" does not apply there
        self.mistakes_only.setEnabled(self._cell is None)
        r = self.result
        if r is None:
            self.show_more.setVisible(False)
            return
        idx = self.gallery_indices()
        shown = idx[: self._shown]
        if self._cell is not None:
            t, p = self._cell
            where = f"true {t}, predicted {p}" + (" (read right)" if t == p else " (mistakes)")
        else:
            where = "mistakes" if self.mistakes_only.isChecked() else "all test images"
        more = f", showing the first {len(shown):,}" if len(idx) > len(shown) else ""
        self.gallery_label.setText(f"{where}: {len(idx):,} images{more}")
        self.show_more.setVisible(len(idx) > len(shown))
        for i in shown:
            label, pred, conf = int(r.labels[i]), int(r.predictions[i]), float(r.confidence[i])
            pixmap = QPixmap.fromImage(gray_image(r.images[i])).scaled(
                84, 84, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
            )
            item = QListWidgetItem(QIcon(pixmap), f"{label}→{pred} {100 * conf:.0f}%")
            item.setToolTip(f"test image {i}: true {label}, predicted {pred} ({100 * conf:.1f}%)")
            item.setData(Qt.ItemDataRole.UserRole, int(i))
            self.gallery.addItem(item)

    def _on_gallery_item_activated(self, item: QListWidgetItem) -> None:
        if self.result is None:
            return
        i = int(item.data(Qt.ItemDataRole.UserRole))
        self.image_chosen.emit(self.result.images[i], int(self.result.labels[i]))
