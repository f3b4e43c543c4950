using System.Buffers.Binary;
using Res2Net.Runtime.Imaging;
using Xunit;

namespace Res2Net.Tests.Imaging;

/// <summary>Images far wider or taller than square, through the whole pipeline, against OpenCV + Pillow.</summary>
public class ExtremeAspectRatioTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("res2net-aspect-").FullName;

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
        File.WriteAllBytes(path, Bmp(width, height));

        var e = Assert.Throws<ImageDecodeException>(() => Preprocessor.Run(path, PreprocessConfig.ImageNet));

        Assert.Equal(path, e.FilePath);
        Assert.Contains($"{width}x{height}", e.Reason);
        Assert.Contains("1048576", e.Reason);
    }

    /// <summary>A black 24-bit BMP (BITMAPINFOHEADER, rows padded to 4 bytes).</summary>
    internal static byte[] Bmp(int width, int height)
    {
        int row = (width * 3 + 3) & ~3;
        var file = new byte[54 + (long)row * height];
        file[0] = (byte)'B';
        file[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(2), file.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(28), 24);
        return file;
    }
}
