using System.Text.Json;

namespace Res2Net.Tests.Imaging;

/// <summary>What OpenCV and Pillow made of the files in Fixtures/images/formats (tools/reference/make_format_fixtures.py).</summary>
internal static class FormatFixtures
{
    public static string Path(string name) => ImageFixtures.Path("formats/" + name);

    private static readonly Lazy<JsonDocument> Document = new(() => JsonDocument.Parse(File.ReadAllText(Path("expected.json"))));

    public static JsonElement Root => Document.Value.RootElement;

    /// <summary>Theory data: the Netpbm files cv2.imread decodes.</summary>
    public static IEnumerable<object[]> DecodedNetpbm() =>
        Root.GetProperty("files").EnumerateObject().Where(p => p.Value.GetProperty("decoded").ValueKind != JsonValueKind.Null)
            .Select(p => new object[] { p.Name });

    /// <summary>Theory data: the Netpbm files cv2.imread refuses.</summary>
    public static IEnumerable<object[]> RefusedNetpbm() =>
        Root.GetProperty("files").EnumerateObject().Where(p => p.Value.GetProperty("decoded").ValueKind == JsonValueKind.Null)
            .Select(p => new object[] { p.Name });

    /// <summary>OpenCV's decode of a Netpbm fixture (RGB).</summary>
    public static Res2Net.Runtime.Imaging.RgbImage Decoded(string name) => Npy(Root.GetProperty("files").GetProperty(name).GetProperty("decoded").GetProperty("npy").GetString()!);

    public static Res2Net.Runtime.Imaging.RgbImage Npy(string name)
    {
        var (data, shape) = TestNpy.ReadBytes(Path(name));
        return new Res2Net.Runtime.Imaging.RgbImage(shape[1], shape[0], data);
    }

    public static string TensorSha256(string name) => Root.GetProperty("tensors").GetProperty(name).GetProperty("sha256").GetString()!;
}
