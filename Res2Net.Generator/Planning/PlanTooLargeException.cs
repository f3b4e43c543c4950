using System;
using System.Globalization;

namespace Res2Net.Generator.Planning
{
    /// <summary>
    /// A spec whose buffers, offsets or counts do not fit what the emitted code and the runtime can address. The
    /// parser catches it and reports RN0012 at the spec's input_size; it never leaves the generator.
    /// </summary>
    internal sealed class PlanTooLargeException : Exception
    {
        public PlanTooLargeException(string detail) : base(detail)
        {
        }

        /// <summary>
        /// The largest buffer the runtime can allocate: a float[] holds at most <c>Array.MaxLength</c>
        /// (2,147,483,591) elements, and <c>AlignedBuffer</c> adds 16 floats of slack to start on a 64-byte
        /// boundary. A test checks this against the runtime.
        /// </summary>
        public const long MaxBufferFloats = 2_147_483_591 - 16;

        /// <summary>Returns <paramref name="floats"/> as an int size or offset, or throws if no buffer can hold it.</summary>
        public static int Fit(long floats, string what)
        {
            if (floats > MaxBufferFloats)
            {
                throw new PlanTooLargeException(
                    $"{what} needs {Count(floats)} floats, more than the {Count(MaxBufferFloats)} a buffer can hold");
            }
            return (int)floats;
        }

        private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
    }
}
