using System.Security.Cryptography;
using System.Text.Json;
using System.Runtime.InteropServices;
using Res2Net.Runtime.Imaging;
using Xunit;

namespace Res2Net.Tests.Imaging;

/// <summary>
/// What OpenCV and Pillow produced for the images in Fixtures/images (tools/reference/make_image_fixtures.py),
/// copied beside the test assembly.
/// </summary>
internal static class ImageFixtures
{
    public static string Path(string relative) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "Fixtures", "images", .. relative.Split('/')]);

    private static readonly Lazy<JsonDocument> Document =
        new(() => JsonDocument.Parse(File.ReadAllText(Path("expected.json"))));

    public static JsonElement Root => Document.Value.RootElement;

    public static IEnumerable<JsonElement> Images => Root.GetProperty("images").EnumerateArray();

    public static JsonElement Image(string file) =>
        Images.Single(e => e.GetProperty("file").GetString() == file);

    /// <summary>Theory data: every image that OpenCV decodes, by fixture-relative name.</summary>
    public static IEnumerable<object[]> ImageNames() => Images.Select(e => new object[] { e.GetProperty("file").GetString()! });

    /// <summary>Images whose decode is bit-exact (all but CMYK, whose colour conversion rounds differently).</summary>
    public static IEnumerable<object[]> ExactDecodeNames() => ImageNames().Where(n => !IsCmyk((string)n[0]));

    /// <summary>Images that also have OpenCV's decoded pixels as .npy.</summary>
    public static IEnumerable<object[]> NamesWithDecodedNpy() =>
        Images.Where(e => e.GetProperty("decoded").TryGetProperty("npy", out _))
              .Select(e => new object[] { e.GetProperty("file").GetString()! });

    public static IEnumerable<object[]> NamesWithTensorNpy() =>
        Images.Where(e => e.GetProperty("tensor").TryGetProperty("npy", out _))
              .Select(e => new object[] { e.GetProperty("file").GetString()! });

    public static IEnumerable<object[]> CorruptNames() =>
        Root.GetProperty("corrupt").EnumerateObject().Select(p => new object[] { p.Name });

    public static bool IsCmyk(string file) => file.Contains("cmyk", StringComparison.Ordinal);

    /// <summary>OpenCV's decode of <paramref name="file"/>, from its .decoded.npy.</summary>
    public static RgbImage ReferenceDecoded(string file)
    {
        var (data, shape) = TestNpy.ReadBytes(Path(Image(file).GetProperty("decoded").GetProperty("npy").GetString()!));
        Assert.Equal(3, shape.Length);
        Assert.Equal(3, shape[2]);
        return new RgbImage(shape[1], shape[0], data);
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>sha256 of the float32 values as little-endian bytes, as numpy's tobytes() gives them on x86/ARM.</summary>
    public static string Sha256(ReadOnlySpan<float> values)
    {
        Assert.True(BitConverter.IsLittleEndian);
        return Sha256(MemoryMarshal.AsBytes(values));
    }

    public static (string Sha256, int Width, int Height) Stage(string file, string stage)
    {
        JsonElement e = Image(file).GetProperty(stage);
        return (e.GetProperty("sha256").GetString()!, e.GetProperty("width").GetInt32(), e.GetProperty("height").GetInt32());
    }

    /// <summary>"first difference at ..." for an assertion message, or null when equal.</summary>
    public static string? FirstDifference(RgbImage actual, RgbImage expected)
    {
        if (actual.Width != expected.Width || actual.Height != expected.Height)
            return $"size {actual.Width}x{actual.Height}, expected {expected.Width}x{expected.Height}";
        int diffs = 0, first = -1, max = 0;
        for (int i = 0; i < actual.Pixels.Length; i++)
        {
            int d = Math.Abs(actual.Pixels[i] - expected.Pixels[i]);
            if (d == 0) continue;
            if (first < 0) first = i;
            diffs++;
            max = Math.Max(max, d);
        }
        if (diffs == 0) return null;
        int px = first / 3;
        return $"{diffs} bytes differ (max {max}); first at x={px % actual.Width} y={px / actual.Width} c={first % 3}: {actual.Pixels[first]} vs {expected.Pixels[first]}";
    }
}
