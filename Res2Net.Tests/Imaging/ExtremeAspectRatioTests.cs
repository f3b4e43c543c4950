using Res2Net.Runtime.Imaging;
using Xunit;

namespace Res2Net.Tests.Imaging;

/// <summary>Images far wider or taller than square, through the whole pipeline, against OpenCV + Pillow.</summary>
public class ExtremeAspectRatioTests : IDisposable
{
    private readonly string _dir = TempFolders.Create("res2net-aspect-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("wide-4100x1.png")]    // ResizeEdge makes it 1049600 x 256
    [InlineData("tall-2x8201.png")]    // 256 x 1049728
    [InlineData("wide-12000x1.png")]   // 3072000 x 256: 2.4 GB as one RGB image, more than a byte[] holds
    [InlineData("tall-3x40000.png")]   // 256 x 3413333
    public void ThePipelineGivesMmpretrainsTensor(string file)
    {
        float[] tensor = Preprocessor.Run(FormatFixtures.Path(file), PreprocessConfig.ImageNet);
        Assert.Equal(FormatFixtures.TensorSha256(file), ImageFixtures.Sha256(tensor));
    }

    [Theory]
    [InlineData(1_048_577, 1)]
    [InlineData(1, 1_048_577)]
    public void ASideLongerThanOpenCvReadsIsRefusedWithTheFileAndTheReason(int width, int height)
    {
        // OpenCV's imread refuses a side above 2^20 (CV_IO_MAX_IMAGE_WIDTH / HEIGHT); up to that every aspect ratio goes through.
        string path = Path.Combine(_dir, "long.bmp");
        File.WriteAllBytes(path, TestImages.Bmp(width, height));

        var e = Assert.Throws<ImageDecodeException>(() => Preprocessor.Run(path, PreprocessConfig.ImageNet));

        Assert.Equal(path, e.FilePath);
        Assert.Contains($"{width}x{height}", e.Reason);
        Assert.Contains("1048576", e.Reason);
    }

    [Theory]
    [InlineData(65_536, 1)]
    [InlineData(1, 70_000)]
    public void ABmpLongerThanSkiaReadsIsRefusedNamingTheDecodersLimit(int width, int height)
    {
        // OpenCV reads these; Skia's BMP reader stops at 65535 a side. The message says so rather than "not recognised".
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(TestImages.Bmp(width, height), "long.bmp"));
        Assert.Contains($"{width}x{height}", e.Reason);
        Assert.Contains("BMP decoder used here reads sides of at most 65535 pixels", e.Reason);
    }
}
