using Res2Net.Tests.Reference;

namespace Res2Net.Tests.Forward;

/// <summary>
/// Random small Res2Nets, every field drawn over the range issue 9 asks the differential test to cover: 1 to 3
/// blocks per stage, base width 1 to 32, scales 2 to 8, plain or deep stem, avg_down on or off, inputs 32 to 97
/// pixels high and wide (odd sizes included, so ceil-mode pools and stride-2 convs meet uneven edges), few classes.
/// </summary>
internal static class RandomArchitecture
{
    public static SpecArchitecture Draw(Random random)
    {
        while (true)
        {
            var architecture = new SpecArchitecture(
                Blocks: new[] { random.Next(1, 4), random.Next(1, 4), random.Next(1, 4), random.Next(1, 4) },
                BaseWidth: random.Next(1, 33),
                Scales: random.Next(2, 9),
                DeepStem: random.Next(2) == 1,
                AvgDown: random.Next(2) == 1,
                StemChannels: 2 * random.Next(1, 17), // a deep stem needs an even count
                BaseChannels: random.Next(1, 17),
                NumClasses: random.Next(1, 11),
                InputHeight: random.Next(32, 98),
                InputWidth: random.Next(32, 98));
            // mmpretrain's width rule can floor to 0 channels per split (base_width 1 over base_channels 3 gives
            // 3 · (1 / 3) = 0.99…): the generator refuses such a spec (RN0007), as mmpretrain would fail on it.
            if (Math.Floor(architecture.BaseChannels * ((double)architecture.BaseWidth / architecture.BaseChannels)) >= 1) return architecture;
        }
    }
}
