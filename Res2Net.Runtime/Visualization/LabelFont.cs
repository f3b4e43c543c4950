using SkiaSharp;

namespace Res2Net.Runtime.Visualization;

/// <summary>
/// The typeface predictions are drawn in: DejaVu Sans Bold, embedded in this assembly (Fonts/, Bitstream Vera license,
/// Fonts/LICENSE-DejaVu.txt), so that pictures look the same on every machine and need no system font.
/// </summary>
public static class LabelFont
{
    private const string Resource = "Res2Net.Runtime.Fonts.DejaVuSans-Bold.ttf";

    private static readonly Lazy<SKTypeface> Face = new(Load);

    /// <summary>The embedded typeface (one instance for the process).</summary>
    public static SKTypeface Typeface => Face.Value;

    private static SKTypeface Load()
    {
        using var stream = typeof(LabelFont).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"embedded resource {Resource} is missing from {typeof(LabelFont).Assembly.GetName().Name}");
        // FromStream reads the font into memory; the resource stream can be closed afterwards.
        var data = new MemoryStream();
        stream.CopyTo(data);
        data.Position = 0;
        return SKTypeface.FromStream(data) ?? throw new InvalidOperationException($"SkiaSharp cannot read the embedded font {Resource}");
    }
}
