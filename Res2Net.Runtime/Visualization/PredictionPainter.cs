using System.Globalization;
using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Inference;
using SkiaSharp;

namespace Res2Net.Runtime.Visualization;

/// <summary>One line of a label box; <see cref="Highlight"/> marks the ground-truth class among the predictions.</summary>
public sealed record LabelLine(string Text, bool Highlight = false);

/// <summary>A rectangle of a picture, in pixels: columns [X, X + Width), rows [Y, Y + Height).</summary>
public readonly record struct PixelBox(int X, int Y, int Width, int Height)
{
    public bool Contains(int x, int y) => x >= X && x < X + Width && y >= Y && y < Y + Height;
}

/// <param name="Image">The picture: the input, enlarged <see cref="Scale"/> times, with the label box drawn in its top-left corner.</param>
/// <param name="Scale">How many times the input was enlarged (nearest neighbour) to make room for legible text; 1 for inputs of 256 pixels a side or more.</param>
/// <param name="Box">Where the label box is; every pixel outside it is the (enlarged) input's.</param>
/// <param name="FontSize">The text's size in pixels (em height), which grows with the picture.</param>
public sealed record LabelledPicture(RgbImage Image, int Scale, PixelBox Box, float FontSize);

/// <summary>
/// Draws a prediction on an image, as mmpretrain's <c>show_dir</c> does (its <c>UniversalVisualizer</c>): the top-k
/// classes and scores in a dark box in the top-left corner, in a size proportional to the picture, so they are as
/// legible on a 40-pixel thumbnail as on a 6000-pixel photo. Images shorter than <see cref="MinShortSide"/> are
/// enlarged (nearest neighbour, whole multiples, at most <see cref="MaxEnlargedSide"/> on the long side) so that the
/// text fits; the text shrinks instead when a line would not fit the width. The font ships with the program
/// (<see cref="LabelFont"/>).
/// </summary>
public static class PredictionPainter
{
    /// <summary>Pictures are enlarged to at least this short side.</summary>
    public const int MinShortSide = 256;

    /// <summary>Enlarging stops before the long side passes this.</summary>
    public const int MaxEnlargedSide = 4096;

    /// <summary>Text size as a fraction of the picture's short side: 4.5 %, about 22 lines fill it.</summary>
    public const float FontFraction = 0.045f;

    /// <summary>The smallest text size, in pixels, where DejaVu Sans Bold stays readable on a screen.</summary>
    public const float MinFontSize = 12f;

    private static readonly SKColor Background = new(0, 0, 0, 170);
    private static readonly SKColor Text = SKColors.White;
    private static readonly SKColor HighlightText = new(0x9c, 0xf0, 0x6c);

    /// <summary>
    /// The lines for a prediction: with a ground truth (from <c>test</c>), a first line naming it and its class
    /// highlighted among the top-k. Each class shows its first name (ImageNet's "tench, Tinca tinca" as "tench"),
    /// its label and its score.
    /// </summary>
    public static IReadOnlyList<LabelLine> Lines(IReadOnlyList<ClassScore> topK, int? truth = null, string? truthName = null)
    {
        ArgumentNullException.ThrowIfNull(topK);
        var lines = new List<LabelLine>();
        if (truth is { } t) lines.Add(new LabelLine($"truth: {ShortName(truthName ?? "")} ({t})", Highlight: true));
        foreach (var c in topK)
        {
            string score = c.Score.ToString("0.000", CultureInfo.InvariantCulture);
            lines.Add(new LabelLine($"{score}  {ShortName(c.ClassName)} ({c.Label})", Highlight: c.Label == truth));
        }
        return lines;
    }

    /// <summary>Draws <paramref name="lines"/> on (an enlarged copy of) <paramref name="image"/>; the input is not changed.</summary>
    public static LabelledPicture Draw(RgbImage image, IReadOnlyList<LabelLine> lines)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(lines);
        int scale = ScaleFor(image.Width, image.Height);
        var canvasImage = scale == 1 ? image : Enlarge(image, scale);
        int width = canvasImage.Width, height = canvasImage.Height;

        using var font = new SKFont(LabelFont.Typeface, Math.Max(MinFontSize, FontFraction * Math.Min(width, height)))
        {
            Edging = SKFontEdging.Antialias,
            Subpixel = true,
        };
        string[] texts = lines.Select(l => Printable(l.Text)).ToArray();
        var (boxWidth, boxHeight) = Measure(font, texts);
        // Too wide or too tall for the picture: the text shrinks until the box fits (a long class name on a thin strip).
        float fit = Math.Min(1f, Math.Min(width / boxWidth, height / boxHeight));
        if (fit < 1f)
        {
            font.Size *= fit;
            (boxWidth, boxHeight) = Measure(font, texts);
        }
        var box = new PixelBox(0, 0, Math.Min(width, (int)MathF.Ceiling(boxWidth)), Math.Min(height, (int)MathF.Ceiling(boxHeight)));

        using var bitmap = PngEncoder.ToBitmap(canvasImage);
        using (var canvas = new SKCanvas(bitmap))
        {
            // Nothing may land outside the box: glyph overhangs and antialiasing are clipped to it.
            canvas.ClipRect(new SKRect(box.X, box.Y, box.X + box.Width, box.Y + box.Height));
            using var fill = new SKPaint { Color = Background, IsAntialias = false };
            canvas.DrawRect(new SKRect(box.X, box.Y, box.X + box.Width, box.Y + box.Height), fill);
            using var paint = new SKPaint { IsAntialias = true };
            float padding = Padding(font), line = LineHeight(font), ascent = -font.Metrics.Ascent;
            for (int i = 0; i < texts.Length; i++)
            {
                paint.Color = lines[i].Highlight ? HighlightText : Text;
                canvas.DrawText(texts[i], padding, padding + i * line + ascent, SKTextAlign.Left, font, paint);
            }
        }
        return new LabelledPicture(PngEncoder.FromBitmap(bitmap), scale, box, font.Size);
    }

    /// <summary>The whole-number enlargement that brings the short side to <see cref="MinShortSide"/> within <see cref="MaxEnlargedSide"/>.</summary>
    public static int ScaleFor(int width, int height)
    {
        int shortSide = Math.Min(width, height), longSide = Math.Max(width, height);
        if (shortSide >= MinShortSide) return 1;
        int wanted = (MinShortSide + shortSide - 1) / shortSide;
        return Math.Max(1, Math.Min(wanted, MaxEnlargedSide / longSide));
    }

    /// <summary>Nearest-neighbour enlargement by a whole factor: every input pixel becomes a scale × scale block.</summary>
    public static RgbImage Enlarge(RgbImage image, int scale)
    {
        var output = new RgbImage(image.Width * scale, image.Height * scale);
        for (int y = 0; y < output.Height; y++)
        {
            var source = image.Row(y / scale);
            var target = output.Row(y);
            for (int x = 0; x < output.Width; x++) source.Slice(x / scale * 3, 3).CopyTo(target.Slice(x * 3, 3));
        }
        return output;
    }

    private static (float Width, float Height) Measure(SKFont font, string[] texts)
    {
        float widest = texts.Length == 0 ? 0 : texts.Max(t => font.MeasureText(t));
        return (widest + 2 * Padding(font), texts.Length * LineHeight(font) + 2 * Padding(font));
    }

    private static float Padding(SKFont font) => 0.4f * font.Size;

    private static float LineHeight(SKFont font) => font.Spacing;

    private static string ShortName(string name)
    {
        int comma = name.IndexOf(',');
        return (comma > 0 ? name[..comma] : name).Trim();
    }

    /// <summary>Control characters (a class name read from a file may hold any) are drawn as '?'.</summary>
    private static string Printable(string text) => string.Concat(text.Select(c => char.IsControl(c) ? '?' : c));
}
