"""The test report page and the trend chart, as Chromium renders them (and screenshots of both)."""
import struct
import zlib

from selenium.webdriver.common.by import By

from browser_helpers import create_job, job_xml, shot, wait_for

FAILURE = (0xD6, 0x3B, 0x3B)   # C_FAILURE in src/web/tests.c
SUCCESS = (0x2E, 0x9D, 0x55)   # C_SUCCESS
UNSTABLE = (0xE0, 0xA8, 0x00)  # C_UNSTABLE


def png_pixels(data):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB or RGBA PNG, without PIL."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def count_near(rows, colour, tolerance=12):
    return sum(1 for row in rows for px in row
               if all(abs(px[k] - colour[k]) <= tolerance for k in range(3)))


REPORT = ('<testsuite name="ui"><testcase classname="ui.Checkout" name="pays"/>'
          '<testcase classname="ui.Checkout" name="refunds"><failure message="refund was 0">'
          'AssertionError: refund was 0\n  at checkout.py:42</failure>'
          '<system-out>calling the bank</system-out></testcase></testsuite>')


def test_trend_chart_and_test_page_render(ui, server):
    script = ("mkdir -p r && cat > r/t.xml <<'EOF'\n" + REPORT + "\nEOF\n"
              'if [ "$(cat ../n 2>/dev/null)" = "" ]; then :; fi')
    publishers = ("<hudson.tasks.junit.JUnitResultArchiver><testResults>r/*.xml</testResults>"
                  "<keepLongStdio>false</keepLongStdio><allowEmptyResults>false</allowEmptyResults>"
                  "</hudson.tasks.junit.JUnitResultArchiver>")
    create_job(server, "ui-tests", job_xml(script=script).replace(
        "<publishers/>", f"<publishers>{publishers}</publishers>"))
    create_job(server, "ui-green", job_xml(script="true"))
    for job in ("ui-tests", "ui-tests", "ui-green"):
        r = server.post(f"job/{job}/build", auth=server.alice)
        assert r.status_code == 201, r.text
        item = server.wait_queue_item(r.headers["Location"], server.alice)
        b = server.wait_build(job, item["executable"]["number"], server.alice)
        assert b["result"] == ("UNSTABLE" if job == "ui-tests" else "SUCCESS")

    # the job page: the trend chart, drawn by the server, no script involved
    ui.get(server.url + "job/ui-tests/")
    chart = wait_for(lambda: ui.find_element(By.ID, "trend-tests"), what="the test trend")
    ui.execute_script("arguments[0].scrollIntoView()", chart)
    shot(ui, "job-trend")
    _, _, rows = png_pixels(chart.screenshot_as_png)
    assert count_near(rows, FAILURE) > 50, "no failed tests drawn in the chart"
    assert count_near(rows, SUCCESS) > 50, "no passed tests drawn in the chart"
    durations = ui.find_element(By.ID, "trend-duration")
    _, _, rows = png_pixels(durations.screenshot_as_png)
    assert count_near(rows, UNSTABLE) > 20, "the unstable builds are not drawn in their colour"
    assert count_near(rows, FAILURE) == 0

    ui.get(server.url + "job/ui-tests/buildTimeTrend")
    wait_for(lambda: ui.find_element(By.ID, "trend-duration"), what="the trend page")
    shot(ui, "build-time-trend")

    # the test page: the failure first, failing since the first build, with its output
    ui.get(server.url + "job/ui-tests/lastCompletedBuild/testReport/")
    failures = wait_for(lambda: ui.find_element(By.ID, "failures"), what="the failures")
    text = failures.text
    assert "ui.Checkout.refunds" in text and "failing since #1 (2 builds)" in text
    assert "refund was 0" in text and "checkout.py:42" in text and "calling the bank" in text
    assert "ui.Checkout.pays" not in text
    shot(ui, "test-report")
    _, _, rows = png_pixels(failures.screenshot_as_png)
    assert count_near(rows, (0x98, 0x1B, 0x1B), tolerance=20) > 10  # the red FAILED badge

    # the dashboard: a weather icon for each built job
    ui.get(server.url)
    icons = wait_for(lambda: ui.find_elements(By.CSS_SELECTOR, "svg.weather"), what="weather")
    scores = {i.get_attribute("data-score") for i in icons}
    assert "100" in scores and "50" in scores, scores  # ui-green; ui-tests: half its tests fail
    shot(ui, "dashboard-weather")
