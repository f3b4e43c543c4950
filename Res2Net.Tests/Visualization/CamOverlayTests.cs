using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Visualization;
using Xunit;

namespace Res2Net.Tests.Visualization;

/// <summary>The pieces of a CAM picture: viridis, OpenCV's bilinear upsampling, the blend with the crop, the crop itself.</summary>
public class CamOverlayTests
{
    /// <summary>
    /// Viridis's ends and middle as matplotlib publishes them in hex (<c>matplotlib.colors.to_hex(viridis(x))</c>,
    /// also the colours of the viridis palette in R's viridisLite): #440154, #21918c, #fde725.
    /// </summary>
    [Fact]
    public void ViridisHasItsPublishedColours()
    {
        Assert.Equal(((byte)0x44, (byte)0x01, (byte)0x54), Viridis.Color(0f));
        Assert.Equal(((byte)0x21, (byte)0x91, (byte)0x8c), Viridis.Color(0.5f));
        Assert.Equal(((byte)0xfd, (byte)0xe7, (byte)0x25), Viridis.Color(1f));
        Assert.Equal(Viridis.Color(0f), Viridis.Color(-3f));
        Assert.Equal(Viridis.Color(0f), Viridis.Color(float.NaN));
        Assert.Equal(Viridis.Color(1f), Viridis.Color(7f));
    }

    /// <summary>
    /// Against cv2.resize(INTER_LINEAR) of a real map (make_cam_fixtures.py). Both interpolate in float32 from the same
    /// two-by-two neighbourhood; OpenCV rounds its weights to float, so values agree to a few float32 ulps of 1.
    /// </summary>
    [Fact]
    public void UpsamplingIsOpenCvsBilinear()
    {
        var npz = Npz.Read(Fixtures.Path("cam", "upsample.npz"));
        var (map, mapShape) = npz["map"];
        var (expected, shape) = npz["resized"];
        Assert.Equal(new[] { 13, 23 }, shape);
        var ours = CamOverlay.Upsample(map, mapShape[1], mapShape[0], 23, 13);
        var (diff, _) = Fixtures.Compare(ours, expected);
        Assert.True(diff <= 1e-6, $"max |ours − cv2.resize| = {diff:E2}");
    }

    [Fact]
    public void HotCellIsYellowAndColdCellsPurpleBlendedHalfWithTheCrop()
    {
        // A 2 x 2 map with one hot cell over a grey 64 x 64 crop: the hot cell's far corner is pure viridis(1) blended
        // with grey, the opposite corner viridis(0).
        var crop = new RgbImage(64, 64);
        Array.Fill(crop.Pixels, (byte)100);
        var prediction = Prediction.FromLogits(new float[] { 1, 0 }, ["a", "b"]);
        var map = new ActivationMap("grey", 0, "a", [5f, 0f, 0f, 0f], [2, 2], prediction);
        var overlay = CamOverlay.Render(crop, map);
        Assert.Equal((64, 64), (overlay.Width, overlay.Height));
        Assert.Equal(new byte[] { (100 + 0xfd + 1) / 2, (100 + 0xe7 + 1) / 2, (100 + 0x25 + 1) / 2 }, overlay.Pixels[..3]);
        int last = (64 * 64 - 1) * 3;
        Assert.Equal(new byte[] { (100 + 0x44) / 2, (100 + 0x01 + 1) / 2, (100 + 0x54) / 2 }, overlay.Pixels[last..(last + 3)]);
    }

    [Fact]
    public void CropComesBackExactlyFromTheNetworkInput()
    {
        var image = ImageDecoder.Decode(Path.Combine(Res2Net.Tests.Cli.SeededCheckpoint.DemoDir, "bird.JPEG"));
        var config = PreprocessConfig.ImageNet;
        var tensor = Preprocessor.Run(image, config);
        var crop = NetworkCrop.FromTensor(tensor, config);
        // Normalizing the recovered crop again gives the network input bit for bit.
        Assert.Equal(tensor, Preprocessor.Normalize(crop, config.Mean, config.Std));
    }
}
