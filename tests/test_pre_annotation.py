"""Pre-annotation formats against the COCO reference API, streaming a folder, and model versions in the store."""
import json
import zipfile
from pathlib import Path

from pycocotools.coco import COCO

from auto_labeling import LabelStore
from auto_labeling.formats import read_coco, to_coco
from auto_labeling.pre_annotation import PreAnnotator, iter_image_paths, make_shapes_dataset

GOLDEN = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "cvat-golden"


def test_pycocotools_reads_what_we_write_and_what_cvat_wrote(tmp_path):
    zipfile.ZipFile(GOLDEN / "coco.zip").extractall(tmp_path / "golden")
    golden = COCO(str(tmp_path / "golden" / "annotations" / "instances_default.json"))
    ours_dict = to_coco(read_coco(tmp_path / "golden" / "annotations" / "instances_default.json"), ["cat", "dog"])
    (tmp_path / "ours.json").write_text(json.dumps(ours_dict))
    ours = COCO(str(tmp_path / "ours.json"))
    for img_id in golden.getImgIds():
        g = sorted((a["category_id"], a["bbox"]) for a in golden.loadAnns(golden.getAnnIds(imgIds=img_id)))
        o = sorted((a["category_id"], a["bbox"]) for a in ours.loadAnns(ours.getAnnIds(imgIds=img_id)))
        assert g == o
    assert [c["name"] for c in ours.loadCats(ours.getCatIds())] == ["cat", "dog"]


def test_a_folder_is_streamed_in_batches_and_versions_stay_apart(tmp_path):
    make_shapes_dataset(tmp_path / "set", 40, seed=5)
    folder = tmp_path / "set" / "images"
    stream = iter_image_paths(folder)
    assert not isinstance(stream, list) and next(stream).name == "00000.png"       # lazy, sorted
    a = PreAnnotator("yolov8n.yaml", confidence_threshold=0.9, batch_size=8, review_floor=0.0)
    got = list(a.iter_predict(folder, progress=False))
    assert len(got) == 40 and [Path(g.image).name for g in got] == sorted(p.name for p in folder.iterdir())
    assert all(g.width == 96 and g.height == 96 and g.error is None for g in got)
    b = PreAnnotator("yolov8n.yaml", confidence_threshold=0.9, batch_size=8)
    assert a.model_version != b.model_version                                     # two random inits, two versions
    store = LabelStore(tmp_path / "labels.sqlite")
    a.to_store(store, got, item_ids=range(40))
    b.to_store(store, list(b.iter_predict(folder, progress=False)), item_ids=range(40))
    per_model = store.current("model", per="annotator").groupby("who").size()
    assert sorted(per_model.index) == sorted([a.model_version, b.model_version]) and (per_model == 40).all()


def test_pre_annotations_upload_to_label_studio(label_studio, tmp_path):
    from auto_labeling.label_studio import LabelStudioClient, object_detection_config
    images = make_shapes_dataset(Path(label_studio.files) / "shapes", 6, seed=7)
    boxes = [a.box_dicts() for a in images]                                       # what format="label_studio" gives
    client = LabelStudioClient(label_studio.url, label_studio.token)
    client.create_project("pre-annotated shapes", object_detection_config(["red", "blue"]))
    report = client.upload_with_predictions(images=[a.image for a in images], predictions=boxes,
                                            item_ids=range(6), local_files_root=label_studio.files, progress=False)
    assert report.created == 6
    task = client.sdk.tasks.get(id=str(report.task_ids["0"]))
    region = task.predictions[0].result[0]
    assert region["original_width"] == 96 and region["value"]["rectanglelabels"] == [images[0].labels[0]]
    assert abs(region["value"]["x"] - 100 * images[0].boxes[0][0] / 96) < 1e-6


def test_the_specification_calls_as_written(tmp_path):
    "The specification's Pre-Annotations snippet, argument names as written, for each format it names."
    import xml.etree.ElementTree as ET
    from auto_labeling import PreAnnotator as PublicPreAnnotator
    from auto_labeling.formats import export_names, voc_xml, yolo_lines
    from auto_labeling.pre_annotation import load_detector
    truth = make_shapes_dataset(tmp_path / "set", 6, seed=11)
    unlabeled_images = [a.image for a in truth]
    yolov8_model = load_detector("yolov8n.yaml")                   # a YOLOv8 built from its config, no download
    annotator = PublicPreAnnotator(
        model=yolov8_model,
        confidence_threshold=0.7
    )
    pre_annotations = annotator.predict(
        images=unlabeled_images,
        format="coco"  # or "yolo", "pascal_voc"
    )
    assert [im["file_name"] for im in pre_annotations["images"]] == export_names(unlabeled_images)
    assert [c["name"] for c in pre_annotations["categories"]] == annotator.classes
    found = annotator.predict(unlabeled_images)                     # `annotator.predict(images)`: Annotations
    assert [a.image for a in found] == unlabeled_images and all(a.width == 96 and a.error is None for a in found)
    assert len(pre_annotations["annotations"]) == sum(len(a.boxes) for a in found)
    yolo = annotator.predict(images=unlabeled_images, format="yolo")
    assert list(yolo) == unlabeled_images and yolo == {a.image: yolo_lines(a, annotator.classes) for a in found}
    voc = annotator.predict(images=unlabeled_images, format="pascal_voc")
    assert list(voc) == unlabeled_images and voc == {a.image: voc_xml(a) for a in found}
    for xml in voc.values():
        assert ET.fromstring(xml).find("size/width").text == "96"
    assert not list(tmp_path.glob("*.txt")) and not (Path.cwd() / "obj_train_data").exists()   # nothing written
