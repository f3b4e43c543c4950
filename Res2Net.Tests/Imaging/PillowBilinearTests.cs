using Res2Net.Runtime.Imaging;
using Xunit;

namespace Res2Net.Tests.Imaging;

/// <summary>Resizing against Pillow's <c>Image.resize(size, Image.BILINEAR)</c>.</summary>
public class PillowBilinearTests
{
    public static IEnumerable<object[]> ResizeCases() =>
        ImageFixtures.Root.GetProperty("resize").EnumerateArray().Select(c => new object[]
        {
            c.GetProperty("in").GetString()!, c.GetProperty("out").GetString()!,
            c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32(),
        });

    [Theory]
    [MemberData(nameof(ResizeCases))]
    public void Resize_IsIdenticalToPillowBilinear(string input, string output, int width, int height)
    {
        RgbImage source = Load(input), expected = Load(output);
        Assert.Equal((width, height), (expected.Width, expected.Height));

        Assert.Null(ImageFixtures.FirstDifference(PillowBilinear.Resize(source, width, height), expected));
    }

    [Theory]
    [MemberData(nameof(ImageFixtures.ImageNames), MemberType = typeof(ImageFixtures))]
    public void ResizeShortEdge_IsIdenticalToPillow(string file)
    {
        // Start from OpenCV's own pixels where they are stored (CMYK needs that), else from our decode, which
        // ImageDecoderTests checks separately: this test isolates the resize stage.
        RgbImage decoded = ImageFixtures.Image(file).GetProperty("decoded").TryGetProperty("npy", out _)
            ? ImageFixtures.ReferenceDecoded(file)
            : ImageDecoder.Decode(ImageFixtures.Path(file));
        Assert.Equal(ImageFixtures.Stage(file, "decoded").Sha256, ImageFixtures.Sha256(decoded.Pixels));

        RgbImage resized = Preprocessor.ResizeShortEdge(decoded, 256);

        var (sha, width, height) = ImageFixtures.Stage(file, "resized");
        Assert.Equal((width, height), (resized.Width, resized.Height));
        Assert.Equal(sha, ImageFixtures.Sha256(resized.Pixels));
    }

    [Theory]
    [InlineData(403, 500, 256, 256, 317)]
    [InlineData(500, 375, 256, 341, 256)]
    [InlineData(500, 374, 256, 342, 256)]
    [InlineData(100, 80, 256, 320, 256)]
    [InlineData(256, 256, 256, 256, 256)]
    [InlineData(300, 300, 180, 180, 180)]
    [InlineData(5, 40, 256, 256, 2048)]
    [InlineData(700, 60, 256, 2986, 256)]
    [InlineData(1, 1, 256, 256, 256)]
    public void ShortEdgeSize_FollowsMmpretrainResizeEdge(int w, int h, int edge, int expectedW, int expectedH)
    {
        Assert.Equal((expectedW, expectedH), Preprocessor.ShortEdgeSize(w, h, edge));
    }

    [Fact]
    public void Resize_ToTheSameSize_ReturnsAnEqualCopy()
    {
        RgbImage source = Load(ImageFixtures.Root.GetProperty("resize")[0].GetProperty("in").GetString()!);
        RgbImage same = PillowBilinear.Resize(source, source.Width, source.Height);
        Assert.NotSame(source.Pixels, same.Pixels);
        Assert.Equal(source.Pixels, same.Pixels);
    }

    private static RgbImage Load(string relative)
    {
        var (data, shape) = TestNpy.ReadBytes(ImageFixtures.Path(relative));
        return new RgbImage(shape[1], shape[0], data);
    }
}
