"""Text modes in a real browser (JupyterLab + Debian's Chromium, Playwright): multi-label and span tagging with the
model's pre-annotations shown, edited or accepted with one key, and what was confirmed vs changed stored."""
import time

from auto_labeling import LabelStore
from test_widget import ARTIFACTS, jupyterlab, notebook_page, wait_for_labels   # noqa: F401  (the fixture)

MULTI = '''
from auto_labeling import LabelStore
from auto_labeling.widget import LabelingSession
texts = ["Stocks fell as the chip maker missed its forecast", "The striker scored twice in the final",
         "A new phone ships with a faster chip"]
store = LabelStore("multi.sqlite")
store.add_items(["0", "1", "2"])
store.add_many(["0", "1"], [["business", "tech"], ["sports"]], who="clf:1", kind="model", confidence=[0.8, 0.9])
session = LabelingSession(None, texts, store, ["business", "sports", "tech"], task="multilabel")
session
'''


def test_in_a_real_browser_multilabel_pre_toggled_edited_and_accepted(jupyterlab):
    """The model's classes come pre-toggled: key 3 removes "tech" and Enter stores the rest; on the next text Enter
    alone accepts the model's answer. Stored: the labels and, per item, what was confirmed, removed or added."""
    with notebook_page(jupyterlab, "multi.ipynb", [MULTI]) as (page, folder):
        out = page.locator(".jp-OutputArea-output:has(.al-session)").first
        out.get_by_text("Stocks fell").first.wait_for(timeout=90_000)
        active = out.locator(".widget-toggle-button.mod-active")
        active.nth(1).wait_for(timeout=30_000)
        assert sorted(active.all_inner_texts()) == ["business", "tech"]              # the model's classes, pre-toggled
        out.get_by_text("Stocks fell").first.hover()
        page.keyboard.press("3")                                                    # untoggle "tech" with its key
        page.wait_for_function("document.querySelectorAll('.al-session .widget-toggle-button.mod-active').length == 1",
                               timeout=30_000)
        out.screenshot(path=str(ARTIFACTS / "widget_mode_multilabel.png"))
        page.keyboard.press("Enter")
        out.get_by_text("stored the answer for pool position 0.").wait_for(timeout=30_000)
        out.get_by_text("The striker").first.hover()
        page.keyboard.press("Enter")                                                # accept the model's "sports"
        out.get_by_text("stored the answer for pool position 1.").wait_for(timeout=30_000)
        labels = wait_for_labels(folder / "multi.sqlite", 2)
        store = LabelStore(folder / "multi.sqlite")
        reviews = [store.get_state(f"widget/review/{i}") for i in ("0", "1")]
        console = page.console_lines
    assert labels == {"0": ["business"], "1": ["sports"]}, (labels, console[-10:])
    assert reviews == [{"confirmed": 1, "changed": 0, "deleted": 1, "drawn": 0},
                       {"confirmed": 1, "changed": 0, "deleted": 0, "drawn": 0}], reviews


SPANS = '''
from auto_labeling import LabelStore
from auto_labeling.widget import LabelingSession
texts = ["Alice met Bob in Paris", "Carol flew to Rome"]
store = LabelStore("spans.sqlite")
store.add_items(["0", "1"])
store.add_many(["0", "1"], [[{"start": 0, "end": 5, "label": "PER"}, {"start": 10, "end": 13, "label": "PER"}],
                            [{"start": 0, "end": 5, "label": "PER"}]], who="ner:1", kind="model", confidence=[0.7, 0.8])
session = LabelingSession(None, texts, store, ["PER", "LOC"], task="spans")
session
'''
SELECT = """(word) => { const el = [...document.querySelectorAll('.entity-tagger')].pop();
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); let node;
  while ((node = walker.nextNode())) { const i = node.textContent.indexOf(word);
    if (i >= 0) { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + word.length);
      const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
      el.dispatchEvent(new MouseEvent('mouseup', {bubbles: true})); return true; } }
  return false; }"""


def test_in_a_real_browser_spans_pre_tagged_edited_and_accepted(jupyterlab):
    """The model's spans (Alice, Bob: PER) are shown tagged; the person adds Paris as LOC with the mouse and submits;
    on the next text the model's span is accepted with one click. Stored: spans and what was confirmed vs added."""
    with notebook_page(jupyterlab, "spans.ipynb", [SPANS]) as (page, folder):
        out = page.locator(".jp-OutputArea-output:has(.al-session)").first
        tagger = out.locator(".entity-tagger").first
        tagger.wait_for(timeout=90_000)
        page.wait_for_function("[...document.querySelectorAll('.entity-tagger')].pop().textContent.includes('Paris')",
                               timeout=30_000)
        time.sleep(1.0)
        out.locator("button", has_text="LOC").first.click()             # the class for the next selection
        out.locator(".widget-toggle-button.mod-active", has_text="LOC").wait_for(timeout=30_000)
        time.sleep(2.0)           # ipyannotations links the class to the tagger in the kernel: let the round trip end
        assert page.evaluate(SELECT, "Paris")                                  # select "Paris" as a person would
        time.sleep(1.0)
        out.screenshot(path=str(ARTIFACTS / "widget_mode_spans.png"))
        out.locator(".widget-button", has_text="Submit").first.click()
        out.get_by_text("item 2/2").first.wait_for(timeout=30_000)
        page.wait_for_function("[...document.querySelectorAll('.entity-tagger')].pop().textContent.includes('Carol')",
                               timeout=30_000)
        time.sleep(0.5)
        out.locator(".widget-button", has_text="Submit").first.click()         # accept the model's span as is
        labels = wait_for_labels(folder / "spans.sqlite", 2)
        store = LabelStore(folder / "spans.sqlite")
        reviews = [store.get_state(f"widget/review/{i}") for i in ("0", "1")]
        console = page.console_lines
    assert labels["0"] == [{"start": 0, "end": 5, "label": "PER", "text": "Alice"},
                           {"start": 10, "end": 13, "label": "PER", "text": "Bob"},
                           {"start": 17, "end": 22, "label": "LOC", "text": "Paris"}], (labels, console[-10:])
    assert labels["1"] == [{"start": 0, "end": 5, "label": "PER", "text": "Carol"}]
    assert reviews == [{"confirmed": 2, "changed": 0, "deleted": 0, "drawn": 1},
                       {"confirmed": 1, "changed": 0, "deleted": 0, "drawn": 0}], reviews
