using Res2Net.Runtime.Imaging;
using Xunit;

namespace Res2Net.Tests.Imaging;

/// <summary>The whole pipeline against mmpretrain's, as run by make_image_fixtures.py with OpenCV and Pillow.</summary>
public class PreprocessorTests
{
    [Theory]
    [MemberData(nameof(ImageFixtures.ExactDecodeNames), MemberType = typeof(ImageFixtures))]
    public void Tensor_IsIdenticalToOpenCvPillow(string file)
    {
        float[] tensor = Preprocessor.Run(ImageFixtures.Path(file), PreprocessConfig.ImageNet);

        Assert.Equal(3 * 224 * 224, tensor.Length);
        Assert.Equal(ImageFixtures.Image(file).GetProperty("tensor").GetProperty("sha256").GetString(), ImageFixtures.Sha256(tensor));
    }

    [Theory]
    [MemberData(nameof(ImageFixtures.NamesWithTensorNpy), MemberType = typeof(ImageFixtures))]
    public void Tensor_IsBitwiseIdenticalToStoredReferenceTensor(string file)
    {
        var (expected, shape) = TestNpy.ReadFloats(ImageFixtures.Path(ImageFixtures.Image(file).GetProperty("tensor").GetProperty("npy").GetString()!));
        Assert.Equal([3, 224, 224], shape);

        float[] actual = Preprocessor.Run(ImageFixtures.Path(file), PreprocessConfig.ImageNet);

        int firstDiff = Enumerable.Range(0, expected.Length)
            .FirstOrDefault(i => BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]), -1);
        Assert.True(firstDiff < 0, firstDiff < 0 ? "" :
            $"first difference at c={firstDiff / (224 * 224)} y={firstDiff / 224 % 224} x={firstDiff % 224}: {actual[firstDiff]:R} vs {expected[firstDiff]:R}");
    }

    [Theory]
    [MemberData(nameof(ImageFixtures.NamesWithDecodedNpy), MemberType = typeof(ImageFixtures))]
    public void Tensor_FromOpenCvPixels_IsIdentical(string file)
    {
        // Resize + crop + normalise alone, fed with OpenCV's decode (this is what covers CMYK exactly).
        float[] tensor = Preprocessor.Run(ImageFixtures.ReferenceDecoded(file), PreprocessConfig.ImageNet);
        Assert.Equal(ImageFixtures.Image(file).GetProperty("tensor").GetProperty("sha256").GetString(), ImageFixtures.Sha256(tensor));
    }

    [Fact]
    public void Tensor_CmykJpeg_IsWithinOneLevelOfOpenCvPillow()
    {
        const string file = "synthetic/cmyk-160x120.jpg";
        float[] reference = Preprocessor.Run(ImageFixtures.ReferenceDecoded(file), PreprocessConfig.ImageNet);
        Assert.Equal(ImageFixtures.Image(file).GetProperty("tensor").GetProperty("sha256").GetString(), ImageFixtures.Sha256(reference));

        float[] ours = Preprocessor.Run(ImageFixtures.Path(file), PreprocessConfig.ImageNet);

        float[] std = PreprocessConfig.ImageNet.Std;
        double worstLevels = 0;
        for (int i = 0; i < ours.Length; i++)
            worstLevels = Math.Max(worstLevels, Math.Abs(ours[i] - reference[i]) * std[i / (224 * 224)]);
        Assert.InRange(worstLevels, 0, 1.0001);
    }

    public static IEnumerable<object[]> OtherConfigCases() =>
        ImageFixtures.Root.GetProperty("otherConfigs").EnumerateArray()
            .SelectMany((c, index) => c.GetProperty("tensors").EnumerateObject().Select(t => new object[] { index, t.Name }));

    [Theory]
    [MemberData(nameof(OtherConfigCases))]
    public void Tensor_WithOtherConfig_IsIdenticalToOpenCvPillow(int configIndex, string file)
    {
        var c = ImageFixtures.Root.GetProperty("otherConfigs")[configIndex];
        var config = new PreprocessConfig(
            c.GetProperty("resizeEdge").GetInt32(), c.GetProperty("cropHeight").GetInt32(), c.GetProperty("cropWidth").GetInt32(),
            c.GetProperty("mean").EnumerateArray().Select(v => v.GetSingle()).ToArray(),
            c.GetProperty("std").EnumerateArray().Select(v => v.GetSingle()).ToArray());

        float[] tensor = Preprocessor.Run(ImageFixtures.Path(file), config);

        Assert.Equal(config.TensorLength, tensor.Length);
        Assert.Equal(c.GetProperty("tensors").GetProperty(file).GetString(), ImageFixtures.Sha256(tensor));
    }

    [Fact]
    public void Run_IntoSpan_IsIdenticalToAllocatingRun()
    {
        RgbImage image = ImageDecoder.Decode(ImageFixtures.Path("demo/demo.JPEG"));
        var batch = new float[2 * PreprocessConfig.ImageNet.TensorLength];
        Preprocessor.Run(image, PreprocessConfig.ImageNet, batch.AsSpan(batch.Length / 2));

        Assert.Equal(Preprocessor.Run(image, PreprocessConfig.ImageNet), batch[(batch.Length / 2)..]);
        Assert.All(batch[..(batch.Length / 2)], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Run_IntoSpanOfWrongLength_Throws()
    {
        var image = new RgbImage(300, 300);
        Assert.Throws<ArgumentException>(() => Preprocessor.Run(image, PreprocessConfig.ImageNet, new float[3 * 224 * 223]));
    }

    [Fact]
    public void Run_CorruptFile_ThrowsImageDecodeException()
    {
        string path = ImageFixtures.Path("corrupt/truncated-half.jpg");
        var e = Assert.Throws<ImageDecodeException>(() => Preprocessor.Run(path, PreprocessConfig.ImageNet));
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void ImageNet_IsMmpretrainsTestPipeline()
    {
        PreprocessConfig c = PreprocessConfig.ImageNet;
        Assert.Equal((256, 224, 224), (c.ResizeEdge, c.CropHeight, c.CropWidth));
        Assert.Equal([123.675f, 116.28f, 103.53f], c.Mean);
        Assert.Equal([58.395f, 57.12f, 57.375f], c.Std);
        Assert.NotSame(c.Mean, PreprocessConfig.ImageNet.Mean); // callers may mutate their copy
        Assert.Equal(c.ResizeEdge, PreprocessConfig.Default.ResizeEdge);
    }

    [Theory]
    [InlineData(128, 160, 160)] // mmcv would clip the crop to 128x128
    [InlineData(200, 160, 224)]
    [InlineData(0, 224, 224)]
    [InlineData(256, 0, 224)]
    public void Config_ThatCannotYieldTheCropSize_IsRejected(int edge, int cropH, int cropW)
    {
        var config = PreprocessConfig.ImageNet with { ResizeEdge = edge, CropHeight = cropH, CropWidth = cropW };
        var e = Assert.Throws<ArgumentException>(() => Preprocessor.Run(new RgbImage(300, 300), config));
        Assert.Contains("crop", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_WithBadMeanOrStd_IsRejected()
    {
        var image = new RgbImage(300, 300);
        Assert.Throws<ArgumentException>(() => Preprocessor.Run(image, PreprocessConfig.ImageNet with { Mean = [1f, 2f] }));
        Assert.Throws<ArgumentException>(() => Preprocessor.Run(image, PreprocessConfig.ImageNet with { Std = [1f, 0f, 1f] }));
    }
}
