using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.Visualization;
using Xunit;

namespace Res2Net.Tests.Visualization;

/// <summary>
/// Predictions drawn on images: the picture is the input (enlarged only when small) everywhere but the label box,
/// the box holds drawn text, and the text grows with the picture.
/// </summary>
public class PredictionPainterTests
{
    private static readonly IReadOnlyList<LabelLine> Lines = PredictionPainter.Lines(
        [new ClassScore(118, 0.132f, "Dungeness crab, Cancer magister"), new ClassScore(201, 0.037f, "silky terrier, Sydney silky"),
         new ClassScore(891, 0.028f, "waffle iron")], truth: 201, truthName: "silky terrier, Sydney silky");

    /// <summary>A picture with structure everywhere (no flat area where a change could hide).</summary>
    private static RgbImage Pattern(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            var row = image.Row(y);
            for (int x = 0; x < width; x++)
            {
                row[3 * x] = (byte)(x * 7 + y);
                row[3 * x + 1] = (byte)(y * 5 + (x >> 3));
                row[3 * x + 2] = (byte)((x ^ y) * 3);
            }
        }
        return image;
    }

    public static TheoryData<int, int> Sizes => new() { { 40, 30 }, { 7, 5 }, { 403, 500 }, { 6000, 4000 } };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void PictureIsTheInputOutsideTheLabelBox(int width, int height)
    {
        var input = Pattern(width, height);
        var picture = PredictionPainter.Draw(input, Lines);

        int scale = Math.Min(width, height) >= PredictionPainter.MinShortSide ? 1 : picture.Scale;
        Assert.True(scale == 1 || Math.Min(width, height) * scale >= PredictionPainter.MinShortSide, $"scale {scale}");
        var expected = scale == 1 ? input : PredictionPainter.Enlarge(input, scale);
        Assert.Equal((width * scale, height * scale), (picture.Image.Width, picture.Image.Height));

        var box = picture.Box;
        Assert.Equal((0, 0), (box.X, box.Y));
        // The box must leave most of the picture alone (two thirds at least), or "equal outside the box" would say little.
        Assert.True((long)box.Width * box.Height < picture.Image.Width * (long)picture.Image.Height / 3, $"box {box} covers too much");
        int changedInside = 0;
        for (int y = 0; y < picture.Image.Height; y++)
        {
            var ours = picture.Image.Row(y);
            var theirs = expected.Row(y);
            for (int x = 0; x < picture.Image.Width; x++)
            {
                bool same = ours.Slice(3 * x, 3).SequenceEqual(theirs.Slice(3 * x, 3));
                if (box.Contains(x, y)) changedInside += same ? 0 : 1;
                else Assert.True(same, $"pixel ({x}, {y}) outside the box {box} changed");
            }
        }
        Assert.True(changedInside > box.Width * box.Height / 2, "the box is drawn (darkened, with text)");
    }

    [Fact]
    public void TextGrowsWithThePictureAndNeverGetsSmallerThanTheMinimum()
    {
        var small = PredictionPainter.Draw(Pattern(403, 500), Lines);
        var huge = PredictionPainter.Draw(Pattern(6000, 4000), Lines);
        var tiny = PredictionPainter.Draw(Pattern(40, 30), Lines);

        // In proportion to the short side: 403 → 4000 is × 9.93.
        double ratio = 4000.0 / 403;
        Assert.InRange(huge.FontSize / small.FontSize, ratio * 0.98, ratio * 1.02);
        Assert.InRange((double)huge.Box.Height / small.Box.Height, ratio * 0.95, ratio * 1.05);
        Assert.Equal(PredictionPainter.FontFraction * 403, small.FontSize, 3);
        // A 40 x 30 thumbnail is enlarged (× 9 to 360 x 270) so that its text is not below 12 pixels.
        Assert.Equal(9, tiny.Scale);
        Assert.True(tiny.FontSize >= PredictionPainter.MinFontSize, $"{tiny.FontSize}");
    }

    [Fact]
    public void ALineTooLongForThePictureShrinksTheTextToFit()
    {
        var picture = PredictionPainter.Draw(Pattern(300, 2000), [new LabelLine(new string('W', 80))]);
        Assert.Equal(1, picture.Scale);
        Assert.True(picture.Box.Width <= 300);
        Assert.True(picture.FontSize < PredictionPainter.FontFraction * 300);
    }

    [Fact]
    public void FontIsTheEmbeddedDejaVuSansBold()
    {
        Assert.Equal("DejaVu Sans", LabelFont.Typeface.FamilyName);
        Assert.True(LabelFont.Typeface.IsBold);
    }

    [Fact]
    public void LinesShowTheTruthFirstAndHighlightItAmongThePredictions()
    {
        Assert.Equal(["truth: silky terrier (201)", "0.132  Dungeness crab (118)", "0.037  silky terrier (201)", "0.028  waffle iron (891)"],
            Lines.Select(l => l.Text));
        Assert.Equal([true, false, true, false], Lines.Select(l => l.Highlight));
    }
}
