//! Inline SVG charts drawn without a crate, for the HTML report. Every label passes through
//! [`super::html::escape`] before it is written.

use super::html::escape;

/// One bar of a horizontal bar chart: label, value, fill colour (a CSS colour the caller
/// chose, never server text).
pub struct Bar<'a> {
    /// Text left of the bar (escaped here).
    pub label: &'a str,
    /// Length of the bar.
    pub value: f64,
    /// CSS fill.
    pub color: &'static str,
}

/// A horizontal bar chart with the value written beside each bar and a scale of labelled
/// ticks under it. `unit` follows each value.
pub fn hbars(title: &str, bars: &[Bar], unit: &str) -> String {
    // Room for the longest label at about 7.6 px a character (12 px sans-serif).
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    let label_w = (longest as f64 * 7.6 + 14.0).clamp(60.0, 420.0);
    const BAR_W: f64 = 420.0;
    const ROW_H: f64 = 22.0;
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let height = ROW_H * bars.len() as f64 + 50.0;
    let width = label_w + BAR_W + 110.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\"><title>{}</title>",
        escape(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 20.0 + ROW_H * i as f64;
        let w = (b.value / max * BAR_W).max(0.0);
        s.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\">{label}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bh}\" fill=\"{color}\"/>\
             <text x=\"{vx:.1}\" y=\"{ty}\" font-size=\"12\">{value}{unit}</text>",
            lx = label_w - 6.0,
            ty = y + 13.0,
            label = escape(b.label),
            bh = ROW_H - 6.0,
            color = b.color,
            vx = label_w + w + 4.0,
            value = fmt_num(b.value),
            unit = escape(unit),
        ));
    }
    // Axis with five labelled ticks.
    let axis_y = 20.0 + ROW_H * bars.len() as f64 + 2.0;
    s.push_str(&format!(
        "<line x1=\"{label_w}\" y1=\"{axis_y}\" x2=\"{x2}\" y2=\"{axis_y}\" stroke=\"#555\"/>",
        x2 = label_w + BAR_W
    ));
    for t in 0..=4 {
        let x = label_w + BAR_W * f64::from(t) / 4.0;
        s.push_str(&format!(
            "<line x1=\"{x}\" y1=\"{axis_y}\" x2=\"{x}\" y2=\"{y2}\" stroke=\"#555\"/>\
             <text x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"11\">{v}</text>",
            y2 = axis_y + 4.0,
            ty = axis_y + 16.0,
            v = fmt_num(max * f64::from(t) / 4.0),
        ));
    }
    s.push_str("</svg>");
    s
}

/// A number with at most two decimals and no trailing zeros.
fn fmt_num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() { "0".into() } else { s.into() }
}

/// One horizontal bar of a stacked chart: its label and one value per layer.
pub struct Stack<'a> {
    /// Text left of the bar (escaped here).
    pub label: &'a str,
    /// One value per layer, in the order of the chart's layers.
    pub values: Vec<f64>,
}

/// Horizontal stacked bars with a legend: one bar per [`Stack`], one coloured segment per
/// layer, the total written beside each bar followed by `unit`. Layers are (name, CSS colour).
pub fn stacked_hbars(title: &str, layers: &[(&str, &str)], stacks: &[Stack], unit: &str) -> String {
    const BAR_W: f64 = 520.0;
    const ROW_H: f64 = 34.0;
    let longest = stacks
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(0);
    let label_w = (longest as f64 * 7.6 + 14.0).clamp(60.0, 420.0);
    let total = |s: &Stack| s.values.iter().map(|v| v.max(0.0)).sum::<f64>();
    let max = stacks.iter().map(total).fold(0.0_f64, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let legend_rows = layers.len().div_ceil(2);
    let height = 10.0 + ROW_H * stacks.len() as f64 + 18.0 * legend_rows as f64 + 16.0;
    let width = label_w + BAR_W + 140.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\"><title>{}</title>",
        escape(title)
    );
    for (i, stack) in stacks.iter().enumerate() {
        let y = 10.0 + ROW_H * i as f64;
        let mut x = label_w;
        s.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"12\">{label}</text>",
            lx = label_w - 6.0,
            ty = y + 17.0,
            label = escape(stack.label),
        ));
        for ((name, color), value) in layers.iter().zip(&stack.values) {
            let w = value.max(0.0) / max * BAR_W;
            if w <= 0.0 {
                continue;
            }
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bh}\" fill=\"{color}\">\
                 <title>{name}: {v}{unit}</title></rect>",
                bh = ROW_H - 10.0,
                name = escape(name),
                v = fmt_num(*value),
                unit = escape(unit),
            ));
            x += w;
        }
        s.push_str(&format!(
            "<text x=\"{vx:.1}\" y=\"{ty}\" font-size=\"12\">{v}{unit}</text>",
            vx = x + 4.0,
            ty = y + 17.0,
            v = fmt_num(total(stack)),
            unit = escape(unit),
        ));
    }
    let legend_y = 10.0 + ROW_H * stacks.len() as f64 + 6.0;
    for (i, (name, color)) in layers.iter().enumerate() {
        let x = label_w + 270.0 * (i % 2) as f64;
        let y = legend_y + 18.0 * (i / 2) as f64;
        s.push_str(&format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{color}\"/>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"12\">{name}</text>",
            tx = x + 16.0,
            ty = y + 10.0,
            name = escape(name),
        ));
    }
    s.push_str("</svg>");
    s
}

/// One point of a scatter plot: its position and the label shown when hovered.
pub struct Point<'a> {
    /// Horizontal value (above 0 on a logarithmic axis).
    pub x: f64,
    /// Vertical value.
    pub y: f64,
    /// Hover text (escaped here).
    pub label: &'a str,
}

/// A scatter plot (points of different case families are not joined), a logarithmic x axis (message sizes span
/// decades) and a linear y axis from 0, each with five labelled ticks and a title.
pub fn scatter_log_x(title: &str, x_label: &str, y_label: &str, points: &[Point]) -> String {
    const W: f64 = 560.0;
    const H: f64 = 220.0;
    const LEFT: f64 = 70.0;
    const TOP: f64 = 24.0;
    let mut pts: Vec<&Point> = points
        .iter()
        .filter(|p| p.x > 0.0 && p.y.is_finite())
        .collect();
    pts.sort_by(|a, b| a.x.total_cmp(&b.x));
    let (lo, hi) = pts.iter().fold((f64::MAX, 0.0_f64), |(lo, hi), p| {
        (lo.min(p.x.log10()), hi.max(p.x.log10()))
    });
    let (lo, hi) = if pts.is_empty() {
        (0.0, 1.0)
    } else if hi - lo < 1e-9 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let ymax = pts.iter().map(|p| p.y).fold(0.0_f64, f64::max);
    let ymax = if ymax > 0.0 { ymax * 1.1 } else { 1.0 };
    let px = |x: f64| LEFT + (x.log10() - lo) / (hi - lo) * W;
    let py = |y: f64| TOP + H - y / ymax * H;
    let width = LEFT + W + 30.0;
    let height = TOP + H + 50.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\"><title>{t}</title>\
         <text x=\"{LEFT}\" y=\"14\" font-size=\"13\" font-weight=\"600\">{t}</text>",
        t = escape(title)
    );
    let bottom = TOP + H;
    s.push_str(&format!(
        "<line x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{r}\" y2=\"{bottom}\" stroke=\"#555\"/>\
         <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{bottom}\" stroke=\"#555\"/>",
        r = LEFT + W
    ));
    for t in 0..=4 {
        let f = f64::from(t) / 4.0;
        let xv = 10f64.powf(lo + (hi - lo) * f);
        let x = LEFT + W * f;
        let yv = ymax * f;
        let y = py(yv);
        s.push_str(&format!(
            "<line x1=\"{x}\" y1=\"{bottom}\" x2=\"{x}\" y2=\"{b4}\" stroke=\"#555\"/>\
             <text x=\"{x}\" y=\"{bt}\" text-anchor=\"middle\" font-size=\"11\">{xv}</text>\
             <line x1=\"{l4}\" y1=\"{y}\" x2=\"{LEFT}\" y2=\"{y}\" stroke=\"#555\"/>\
             <text x=\"{lt}\" y=\"{yt}\" text-anchor=\"end\" font-size=\"11\">{yv}</text>",
            b4 = bottom + 4.0,
            bt = bottom + 16.0,
            xv = fmt_num(xv),
            l4 = LEFT - 4.0,
            lt = LEFT - 6.0,
            yt = y + 4.0,
            yv = fmt_num(yv),
        ));
    }
    s.push_str(&format!(
        "<text x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\" font-size=\"12\">{xl}</text>\
         <text x=\"12\" y=\"{cy}\" font-size=\"12\" transform=\"rotate(-90 12 {cy})\" text-anchor=\"middle\">{yl}</text>",
        cx = LEFT + W / 2.0,
        ly = bottom + 36.0,
        xl = escape(x_label),
        cy = TOP + H / 2.0,
        yl = escape(y_label),
    ));
    for p in &pts {
        s.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#1d3557\"><title>{}: {}</title></circle>",
            px(p.x),
            py(p.y),
            escape(p.label),
            fmt_num(p.y)
        ));
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = hbars(
            "t<",
            &[
                Bar {
                    label: "<b>",
                    value: 2.0,
                    color: "#0a0",
                },
                Bar {
                    label: "b",
                    value: 4.0,
                    color: "#a00",
                },
            ],
            " x",
        );
        assert!(svg.contains("width=\"420.0\""), "{svg}");
        assert!(svg.contains("width=\"210.0\""), "{svg}");
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"), "{svg}");
        assert!(svg.contains("<title>t&lt;</title>"));
    }

    #[test]
    fn numbers_drop_trailing_zeros() {
        assert_eq!(fmt_num(2.0), "2");
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(0.0), "0");
    }
}
