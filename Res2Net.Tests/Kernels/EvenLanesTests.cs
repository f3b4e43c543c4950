using System.Runtime.InteropServices;
using Res2Net.Runtime.Kernels;
using Xunit;

namespace Res2Net.Tests.Kernels;

/// <summary>
/// <see cref="EvenLanes"/>' row split (the stride-2 direct convs' phases) at both widths, whichever the machine has: every
/// row width from 1 to 80 and every count of evens and odds a phase can ask for, against the definition
/// <c>even[i] = row[2i]</c>, <c>odd[i] = row[2i + 1]</c>. The row ends where its native block ends, as the stem's caller
/// input may (the split's loads there are masked); the destinations end in poisoned slack that must stay.
/// </summary>
public unsafe class EvenLanesTests
{
    public static TheoryData<string> Widths => new() { "512", "256" };

    [Theory]
    [MemberData(nameof(Widths))]
    public void SplitKeepsEveryOtherFloatAndWritesNothingPast(string width)
    {
        if (width == "256" && !EvenLanes.IsAccelerated) return; // the 256-bit split needs AVX2; the 512-bit one runs anywhere
        const int Poison = 0x7FC0DEAD;
        nuint page = 4096;
        float* block = (float*)NativeMemory.AlignedAlloc(page, page);
        try
        {
            for (int n = 1; n <= 80; n++)
            {
                float* row = block + (page / sizeof(float)) - n;
                for (int i = 0; i < n; i++) row[i] = i + 0.5f;
                int maxEvens = (n + 1) / 2, maxOdds = n / 2;
                foreach (var (evens, odds) in new[] { (maxEvens, maxOdds), (maxEvens - 1, maxOdds), (maxEvens, Math.Max(0, maxOdds - 1)), (0, maxOdds) })
                {
                    var even = new float[evens + 40];
                    var odd = new float[odds + 40];
                    Array.Fill(even, BitConverter.Int32BitsToSingle(Poison));
                    Array.Fill(odd, BitConverter.Int32BitsToSingle(Poison));
                    fixed (float* e = even, o = odd)
                    {
                        if (width == "512") EvenLanes.Split512(row, n, e, evens, o, odds);
                        else EvenLanes.Split256(row, n, e, evens, o, odds);
                    }
                    string what = $"{width}-bit, row of {n}, {evens} evens, {odds} odds";
                    for (int i = 0; i < evens; i++) Assert.True(even[i] == 2 * i + 0.5f, $"{what}: even[{i}] is {even[i]}");
                    for (int i = 0; i < odds; i++) Assert.True(odd[i] == 2 * i + 1.5f, $"{what}: odd[{i}] is {odd[i]}");
                    for (int i = evens; i < even.Length; i++) Assert.True(BitConverter.SingleToInt32Bits(even[i]) == Poison, $"{what}: even[{i}] written");
                    for (int i = odds; i < odd.Length; i++) Assert.True(BitConverter.SingleToInt32Bits(odd[i]) == Poison, $"{what}: odd[{i}] written");
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(block);
        }
    }
}
